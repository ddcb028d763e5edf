"""The customer hears of the changes that matter to them: resolved, pending, closed,
reopened, merged.

Templated per locale (`status_update`, `merged`), automatic mail through notify's
gate (loop budget, bouncing and no-reply addresses), threaded on the ticket.
"""

from datetime import datetime

from sqlalchemy.orm import Session

from maildesk.desk.context import Desk
from maildesk.desk.notify import Draft, queue_automatic, ticket_context
from maildesk.store.tables import OutboxKind, Status, Ticket

# What moves are news to the customer: into these states, and back to open from them.
TOLD = (Status.RESOLVED, Status.PENDING, Status.CLOSED)


def queue(session: Session, app: Desk, ticket: Ticket, before: str, now: datetime) -> int | None:
    """A status update after `before` -> ticket.status, when the customer should know."""
    reopened = ticket.status == Status.OPEN and before in TOLD
    if ticket.status not in TOLD and not reopened:
        return None
    status = "reopened" if reopened else ticket.status
    return _queue(session, app, ticket, "status_update", {"status": status}, now)


def queue_merged(
    session: Session, app: Desk, ticket: Ticket, survivor: Ticket, now: datetime
) -> int | None:
    """Told once: the request goes on under the survivor's number."""
    new_tag = app.tag.format(survivor.number)
    return _queue(session, app, ticket, "merged", {"new_tag": new_tag}, now)


def queue_closed(
    session: Session, app: Desk, ticket: Ticket, days: int, now: datetime
) -> int | None:
    """The survey window is over: the ticket closed by itself (survey.close_notice)."""
    return _queue(session, app, ticket, "auto_close", {"window_days": days}, now)


def _queue(
    session: Session,
    app: Desk,
    ticket: Ticket,
    template: str,
    extra: dict[str, str | int],
    now: datetime,
) -> int | None:
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
