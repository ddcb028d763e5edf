"""Read-only views as plain dicts: the JSON contract of `stats`, `tickets list/show`."""

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session, selectinload

from maildesk.config import PRIORITIES
from maildesk.desk import bounces
from maildesk.mail.classify import MailClass
from maildesk.store.intake_tables import Quarantine
from maildesk.store.tables import (
    Direction,
    Event,
    Message,
    OutboxKind,
    OutboxMail,
    OutboxStatus,
    Status,
    Ticket,
    TicketTag,
)
from maildesk.views import clocks


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _counts(session: Session, column, keys, *where) -> dict[str, int]:
    found: dict[Any, int] = dict(
        session.execute(select(column, func.count()).where(*where).group_by(column)).all()
    )
    return {str(key): found.get(str(key), 0) for key in keys}


def stats(
    session: Session, mailbox: str | None = None, source_prefix: str | None = None
) -> dict[str, Any]:
    """Counts for `stats --json` (keys fixed by design.md).

    With `mailbox`, only its tickets and their mail; quarantined mail has no
    ticket, so it is counted by `source_prefix` (where the mailbox's mail comes from).
    """
    incoming = Message.direction == Direction.IN
    quarantined: list[ColumnElement[bool]] = [Quarantine.replayed_at.is_(None)]
    tickets: list[ColumnElement[bool]] = []
    messages: list[ColumnElement[bool]] = [incoming]
    outbox: list[ColumnElement[bool]] = []
    if mailbox is not None:
        of_mailbox = select(Ticket.id).where(Ticket.mailbox == mailbox)
        tickets.append(Ticket.mailbox == mailbox)
        messages.append(Message.ticket_id.in_(of_mailbox))
        outbox.append(OutboxMail.ticket_id.in_(of_mailbox))
        quarantined.append(Quarantine.source.startswith(source_prefix or "", autoescape=True))
    return {
        "tickets": session.scalar(select(func.count(Ticket.id)).where(*tickets)),
        "messages": session.scalar(select(func.count(Message.id)).where(*messages)),
        "quarantined": session.scalar(select(func.count(Quarantine.id)).where(*quarantined)),
        "by_status": _counts(session, Ticket.status, list(Status), *tickets),
        "by_priority": _counts(session, Ticket.priority, PRIORITIES, *tickets),
        "by_class": _counts(session, Message.mail_class, list(MailClass), *messages),
        "outbox": _counts(session, OutboxMail.status, list(OutboxStatus), *outbox),
        "outbox_by_kind": _counts(session, OutboxMail.kind, list(OutboxKind), *outbox),
    }


def ticket_row(ticket: Ticket) -> dict[str, Any]:
    return {
        "number": ticket.number,
        "subject": ticket.subject,
        "status": ticket.status,
        "priority": ticket.priority,
        "customer": ticket.customer,
        "mailbox": ticket.mailbox,
        "created_at": _iso(ticket.created_at),
        "updated_at": _iso(ticket.updated_at),
        "automatic": ticket.automatic,
    }


def ticket_list(
    session: Session, status: str | None = None, mailbox: str | None = None
) -> list[dict[str, Any]]:
    query = select(Ticket).order_by(Ticket.number)
    if status:
        query = query.where(Ticket.status == status)
    if mailbox:
        query = query.where(Ticket.mailbox == mailbox)
    return [ticket_row(t) for t in session.scalars(query)]


def ticket_detail(session: Session, number: int) -> dict[str, Any] | None:
    ticket = session.scalar(
        select(Ticket)
        .where(Ticket.number == number)
        .options(selectinload(Ticket.messages).selectinload(Message.attachments))
    )
    if ticket is None:
        return None
    return (
        ticket_row(ticket)
        | {
            "category": ticket.category,
            "team": ticket.team,
            "assignee": ticket.assignee,
            "locale": ticket.locale,
            "due": {
                "first_response": _iso(ticket.first_response_due),
                "resolution": _iso(ticket.resolution_due),
            },
            "messages": [message_row(m) for m in ticket.messages],
            "bouncing": bounces.bouncing_participants(session, ticket),
            "tags": sorted(
                session.scalars(select(TicketTag.tag).where(TicketTag.ticket_id == ticket.id))
            ),
            "resolution": ticket.resolution,
            "merged_into": _number(session, ticket.merged_into),
            "events": [event_row(e) for e in _events(session, ticket)],
        }
        | clocks.ticket_sla(session, ticket)
    )


def _number(session: Session, ticket_id: int | None) -> int | None:
    return (
        session.scalar(select(Ticket.number).where(Ticket.id == ticket_id)) if ticket_id else None
    )


def _events(session: Session, ticket: Ticket) -> list[Event]:
    return list(
        session.scalars(select(Event).where(Event.ticket_id == ticket.id).order_by(Event.id))
    )


def event_row(event: Event) -> dict[str, Any]:
    return {
        "kind": event.kind,
        "detail": event.detail,
        "actor": event.actor,
        "created_at": _iso(event.created_at),
    }


def message_row(message: Message) -> dict[str, Any]:
    return {
        "direction": message.direction,
        "class": message.mail_class,
        "from": message.from_addr,
        "subject": message.subject,
        "message_id": message.message_id,
        "created_at": _iso(message.created_at),
        # The new text; when that is empty (a mail all quote, or one stored before
        # strip_quotes kept inline answers), the full text: never nothing.
        "text": message.text or message.full_text,
        # False once `[retention]` or `contacts forget` removed the mail's raw bytes
        # (and for the mail we send, whose bytes the outbox keeps).
        "raw_stored": message.raw_id is not None,
        "attachments": [
            {
                "filename": a.filename,
                "size": a.size,
                "content_type": a.content_type,
                "stored": a.blob_id is not None,
                "inline": a.inline,
                "content_id": a.content_id,
            }
            for a in message.attachments
        ],
    }
