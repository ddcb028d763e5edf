"""The retention sweep: the raw mail and attachments of tickets closed long enough
(`[retention]`) are removed; the tickets, their messages' text, events and counts stay.

A ticket is "closed since" its `updated_at`: closing stamps it, and anything
later on the ticket only moves it on, so a ticket never loses its bytes early.
Each ticket is done once and gets a `retention` event: what was removed and
why. The sweep claims its tickets (SKIP LOCKED on PostgreSQL), so several
workers share it; a second run finds nothing left to do. Blobs are removed
only when no other row still uses them (store/blobs.py).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, exists, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from maildesk.config.retention import RetentionConfig
from maildesk.desk import tickets
from maildesk.desk.batch import Batch
from maildesk.desk.context import Desk
from maildesk.store import blobs
from maildesk.store.db import transaction, update_rows
from maildesk.store.tables import (
    Attachment,
    Message,
    OutboxMail,
    OutboxStatus,
    Status,
    Ticket,
)

BATCH = 100
ACTOR = "maildesk-retention"
EVENT = "retention"


@dataclass
class RetentionResult:
    tickets: int = 0
    raw_mails: int = 0
    attachments: int = 0
    blobs: int = 0  # deleted; a blob another row still uses stays

    def __bool__(self) -> bool:
        return bool(self.tickets)


def sweep(sessions: sessionmaker[Session], desk: Desk, now: datetime) -> RetentionResult:
    """Remove what `[retention]` says is due at `now`, a batch of tickets per transaction."""
    config = desk.config.retention
    result = RetentionResult()
    while True:
        with transaction(sessions, write=True) as session:
            due = _due(session, config, now)
            for ticket in due:
                _remove(session, ticket, config, now, result)
        if len(due) < BATCH:
            return result


def _cutoff(days: int | None, now: datetime) -> datetime | None:
    return None if days is None else now - timedelta(days=days)


def _sent_with_bytes() -> ColumnElement[bool]:
    """The ticket has a sent mail whose bytes the outbox still keeps."""
    return exists().where(
        OutboxMail.ticket_id == Ticket.id,
        OutboxMail.status == OutboxStatus.SENT,
        func.length(OutboxMail.raw) > 0,
    )


def _due(session: Session, config: RetentionConfig, now: datetime) -> list[Ticket]:
    """Closed tickets past a cutoff with bytes still kept, locked for this transaction."""
    raw_before = _cutoff(config.raw_mail_days, now)
    files_before = _cutoff(config.attachment_days, now)
    kept: list[ColumnElement[bool]] = []
    if raw_before is not None:
        raw = exists().where(Message.ticket_id == Ticket.id, Message.raw_id.is_not(None))
        kept.append(and_(Ticket.updated_at <= raw_before, or_(raw, _sent_with_bytes())))
    if files_before is not None:
        files = (
            exists()
            .where(Message.ticket_id == Ticket.id, Attachment.message_id == Message.id)
            .where(Attachment.blob_id.is_not(None))
        )
        kept.append(and_(Ticket.updated_at <= files_before, files))
    if not kept:
        return []
    query = (
        select(Ticket)
        .where(Ticket.status == Status.CLOSED, or_(*kept))
        .order_by(Ticket.id)
        .limit(BATCH)
        .with_for_update(of=Ticket, skip_locked=True)
    )
    return list(session.scalars(query))


def _remove(
    session: Session,
    ticket: Ticket,
    config: RetentionConfig,
    now: datetime,
    result: RetentionResult,
) -> None:
    of_ticket = select(Message.id).where(Message.ticket_id == ticket.id)
    freed: list[int | None] = []
    removed: list[str] = []
    raw_before = _cutoff(config.raw_mail_days, now)
    if raw_before is not None and ticket.updated_at <= raw_before:
        kept = Message.raw_id.is_not(None)
        freed += session.scalars(select(Message.raw_id).where(Message.id.in_(of_ticket), kept))
        count = update_rows(
            session, update(Message).where(Message.id.in_(of_ticket), kept), raw_id=None
        )
        sent = OutboxMail.ticket_id == ticket.id, OutboxMail.status == OutboxStatus.SENT
        kept_sent = update(OutboxMail).where(*sent, func.length(OutboxMail.raw) > 0)
        count += update_rows(session, kept_sent, raw=b"")
        result.raw_mails += count
        if count:  # none when only the attachments' period came now
            removed.append(f"raw mail of {count} messages (kept {config.raw_mail_days} days)")
    files_before = _cutoff(config.attachment_days, now)
    if files_before is not None and ticket.updated_at <= files_before:
        kept = Attachment.blob_id.is_not(None)
        mine = Attachment.message_id.in_(of_ticket)
        freed += session.scalars(select(Attachment.blob_id).where(mine, kept))
        count = update_rows(session, update(Attachment).where(mine, kept), blob_id=None)
        result.attachments += count
        if count:
            removed.append(f"{count} attachments (kept {config.attachment_days} days)")
    result.blobs += blobs.drop_unused(session, freed)
    result.tickets += 1
    detail = f"removed {' and '.join(removed)} after the close"
    tickets.record(session, Batch(), ticket, EVENT, detail, ACTOR, now)
