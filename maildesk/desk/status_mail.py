"""The customer hears of the changes that matter to them: resolved, pending, closed,
reopened, merged.

A move an agent made is news (`status_update`); the customer's own (a follow-up,
a survey answer) is not; the close at the end of the survey window is, when
`survey.close_notice` says so (`auto_close`); a merge always (`merged`).
Templated per locale, automatic mail through notify's gate (loop budget,
bouncing and no-reply addresses), threaded on the ticket.
"""

from datetime import datetime

from sqlalchemy.orm import Session

from maildesk.desk.context import Desk
from maildesk.desk.events import Cause, Merged, StatusChanged
from maildesk.desk.notify import Draft, queue_automatic, ticket_context
from maildesk.store.tables import OutboxKind, Status, Ticket

# What moves are news to the customer: into these states, and back to open from them.
TOLD = (Status.RESOLVED, Status.PENDING, Status.CLOSED)


def status_changed(session: Session, app: Desk, event: StatusChanged, now: datetime) -> None:
    """Tell the customer of a move that is news to them (see above)."""
    if event.cause is Cause.AGENT:
        _status_update(session, app, event.ticket, event.before, now)
    elif event.cause is Cause.WINDOW and app.config.survey.close_notice:
        days = round(app.config.survey.window_days)
        _queue(session, app, event.ticket, "auto_close", {"window_days": days}, now)


def _status_update(
    session: Session, app: Desk, ticket: Ticket, before: str, now: datetime
) -> None:
    """`before` -> ticket.status, when the customer should know."""
    reopened = ticket.status == Status.OPEN and before in TOLD
    if ticket.status in TOLD or reopened:
        status = "reopened" if reopened else ticket.status
        _queue(session, app, ticket, "status_update", {"status": status}, now)


def merged(session: Session, app: Desk, event: Merged, now: datetime) -> None:
    """Told once: the request goes on under the survivor's number."""
    new_tag = app.tag.format(event.survivor.number)
    _queue(session, app, event.ticket, "merged", {"new_tag": new_tag}, now)


def _queue(
    session: Session,
    app: Desk,
    ticket: Ticket,
    template: str,
    extra: dict[str, str | int],
    now: datetime,
) -> str | None:
    context = ticket_context(app, ticket) | {"summary": ticket.resolution or ""} | extra
    rendered = app.templates.render(template, ticket.locale, context)
    draft = Draft(
        OutboxKind.STATUS_UPDATE,
        (ticket.customer,),
        rendered.subject,
        rendered.text,
        html=rendered.html,
    )
    return queue_automatic(session, app, ticket, draft, now)
