"""The customer hears of the changes that matter to them: resolved, pending, closed, reopened.

Templated per locale (`status_update`), automatic mail through notify's
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
    return _queue(session, app, ticket, "reopened" if reopened else ticket.status, "", now)


def queue_merged(
    session: Session, app: Desk, ticket: Ticket, survivor: Ticket, now: datetime
) -> int | None:
    """Told once: the request goes on under the survivor's number."""
    return _queue(session, app, ticket, "merged", app.tag.format(survivor.number), now)


def _queue(
    session: Session, app: Desk, ticket: Ticket, status: str, new_tag: str, now: datetime
) -> int | None:
    context = ticket_context(app, ticket) | {
        "status": status,
        "summary": ticket.resolution or "",
        "new_tag": new_tag,
    }
    rendered = app.templates.render("status_update", ticket.locale, context)
    draft = Draft(OutboxKind.STATUS_UPDATE, (ticket.customer,), rendered.subject, rendered.text)
    return queue_automatic(session, app, ticket, draft, now)
