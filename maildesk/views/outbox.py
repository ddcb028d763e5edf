"""The outbox as an operator sees it: `outbox list` and the outbox part of `status`."""

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from maildesk.store.tables import OutboxMail, OutboxStatus, Ticket


def rows(session: Session, failed_only: bool = False) -> list[dict[str, Any]]:
    """Every outbox row (or the failed ones), newest first, with its reason and its time:
    the next attempt while pending, when it was sent once sent."""
    query = (
        select(OutboxMail, Ticket.number)
        .outerjoin(Ticket, Ticket.id == OutboxMail.ticket_id)
        .options(selectinload(OutboxMail.recipients))
        .order_by(OutboxMail.created_at.desc(), OutboxMail.id.desc())
    )
    if failed_only:
        query = query.where(OutboxMail.status == OutboxStatus.FAILED)
    return [_row(mail, number) for mail, number in session.execute(query)]


def _row(mail: OutboxMail, number: int | None) -> dict[str, Any]:
    pending = mail.status == OutboxStatus.PENDING
    return {
        "id": mail.id,
        "kind": mail.kind,
        "ticket": number,
        "recipients": [recipient.address for recipient in mail.recipients],
        "status": mail.status,
        "attempts": mail.attempts,
        "last_error": mail.last_error,
        "created_at": mail.created_at.isoformat(),
        "next_attempt_at": mail.next_attempt_at.isoformat() if pending else None,
        "sent_at": mail.sent_at.isoformat() if mail.sent_at else None,
    }


def counts(session: Session, now: datetime) -> dict[str, Any]:
    """Rows by status and the age of the oldest pending mail (None when none waits)."""
    found: dict[Any, int] = dict(
        session.execute(select(OutboxMail.status, func.count()).group_by(OutboxMail.status)).all()
    )
    oldest = session.scalar(
        select(func.min(OutboxMail.created_at)).where(OutboxMail.status == OutboxStatus.PENDING)
    )
    return {str(status): found.get(str(status), 0) for status in OutboxStatus} | {
        "oldest_pending_at": oldest.isoformat() if oldest else None,
        "oldest_pending_seconds": round((now - oldest).total_seconds()) if oldest else None,
    }
