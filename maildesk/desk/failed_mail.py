"""Outgoing mail the server refused for good: the admins hear of it, and an operator can
send it again after a fix (`outbox retry`).

The notice is queued in the transaction that marks the row failed, so a row's
failure is told exactly once (a crash rolls both back). A retried row that
fails again is a new failure and is told again: the operator believed it
fixed, and needs to know it was not. A notice to an admin that fails is never
told about (no loop); nor is a row without a ticket (an agent's SLA digest),
which has no thread to put the notice on: the error log has it.
"""

import logging
from datetime import datetime

from sqlalchemy.orm import Session

from maildesk.desk.context import Desk
from maildesk.desk.notify import Draft, queue_mail
from maildesk.errors import MaildeskError
from maildesk.store.tables import OutboxKind, OutboxMail, OutboxStatus, Ticket

log = logging.getLogger(__name__)


class RetryRefused(MaildeskError):
    """`outbox retry` of a row that does not exist or was already sent; nothing changed."""

    exit_code = 2


def tell_admins(session: Session, desk: Desk, row: OutboxMail, now: datetime) -> int:
    """Queue one notice per admin about failed `row`; returns how many were queued."""
    admins = [agent.email for agent in desk.config.agents if agent.role == "admin"]
    if row.kind == OutboxKind.ADMIN_NOTICE or row.ticket_id is None or not admins:
        return 0
    ticket = session.get_one(Ticket, row.ticket_id)
    recipients = ", ".join(recipient.address for recipient in row.recipients)
    subject = f"Mail not delivered: outbox #{row.id} ({row.kind})"
    text = (
        f"The {row.kind} mail to {recipients} was refused after {row.attempts} attempt(s):\n\n"
        f"{row.last_error}\n\n"
        "`maildesk outbox list --failed` shows every failed mail; after a fix,\n"
        f"`maildesk outbox retry {row.id}` sends this one again.\n"
    )
    queued = 0
    for admin in admins:
        draft = Draft(OutboxKind.ADMIN_NOTICE, (admin,), subject, text)
        queued += queue_mail(session, desk, ticket, draft, now) is not None
    return queued


def retry(session: Session, row_id: int, now: datetime) -> OutboxMail:
    """Make a failed (or pending) row due now, its attempts kept, for the next drain."""
    row = session.get(OutboxMail, row_id)
    if row is None:
        raise RetryRefused(f"outbox retry: there is no outbox mail {row_id}")
    if row.status == OutboxStatus.SENT:
        sent = row.sent_at.isoformat(timespec="seconds") if row.sent_at else "earlier"
        raise RetryRefused(f"outbox retry: mail {row_id} was sent ({sent}); nothing to retry")
    row.status = OutboxStatus.PENDING
    row.next_attempt_at = now
    log.info("outbox mail %s due again (attempts so far: %d)", row_id, row.attempts)
    return row
