"""`contacts export`: everything the desk holds about one person, as JSON and as an mbox.

The JSON has their contact row, the tickets they are on, the mails of theirs
(desk/person.py: their mails, and every mail on the tickets they opened)
with their text, those tickets' events and their survey answers. The mbox has
the same mails: the raw bytes where they are still kept (the outbox's for the
mail we sent), else a mail rebuilt from what was stored, which says so.
"""

import mailbox
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from maildesk.desk.person import Person, their_messages
from maildesk.store.deadline_tables import Survey
from maildesk.store.tables import Blob, Contact, Event, Message, OutboxMail, Ticket
from maildesk.views.records import event_row, message_row, ticket_row

REBUILT = "X-Maildesk-Rebuilt"  # the header of a mail rebuilt from the stored fields


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _messages(session: Session, person: Person) -> list[Message]:
    query = select(Message).where(their_messages(person)).order_by(Message.id)
    return list(session.scalars(query.options(selectinload(Message.attachments))))


def export(session: Session, person: Person, now: datetime) -> dict[str, Any]:
    """The JSON of `contacts export`, as a plain dict."""
    of_theirs = select(Ticket.id, Ticket.number).where(Ticket.id.in_(person.tickets))
    numbers: dict[int, int] = dict(session.execute(of_theirs).tuples().all())
    contacts = session.scalars(select(Contact).where(Contact.address.in_(person.spellings)))
    tickets = session.scalars(
        select(Ticket).where(Ticket.id.in_(person.tickets)).order_by(Ticket.number)
    )
    events = session.scalars(
        select(Event).where(Event.ticket_id.in_(person.tickets)).order_by(Event.id)
    )
    surveys = session.scalars(
        select(Survey).where(Survey.customer.in_(person.spellings)).order_by(Survey.id)
    )
    return {
        "address": person.address,
        "addresses": list(person.spellings),
        "exported_at": now.isoformat(),
        "contacts": [_contact(c) for c in contacts],
        "tickets": [
            ticket_row(t) | {"role": "customer" if t.id in person.own_tickets else "participant"}
            for t in tickets
        ],
        "messages": [
            {"ticket": numbers[m.ticket_id]} | message_row(m) | _more_of(m)
            for m in _messages(session, person)
        ],
        "events": [{"ticket": numbers[e.ticket_id]} | event_row(e) for e in events],
        "surveys": [
            {
                "ticket": numbers[s.ticket_id],
                "rating": s.rating,
                "solved": s.solved,
                "comment": s.comment,
                "sent_at": _iso(s.sent_at),
                "answered_at": _iso(s.answered_at),
            }
            for s in surveys
        ],
    }


def _contact(contact: Contact) -> dict[str, Any]:
    return {
        "address": contact.address,
        "bouncing": contact.bouncing,
        "bouncing_since": _iso(contact.bouncing_since),
        "last_bounce_at": _iso(contact.last_bounce_at),
        "bounce_count": contact.bounce_count,
        "last_bounce_reason": contact.last_bounce_reason,
    }


def _more_of(message: Message) -> dict[str, Any]:
    """What the ticket view leaves out and a person is owed: names, lists, the whole text."""
    return {
        "from_name": message.from_name,
        "to": message.to_addrs,
        "cc": message.cc_addrs,
        "full_text": message.full_text,
    }


def write_mbox(session: Session, person: Person, path: Path) -> int:
    """Their mails into the mbox file `path` (created); how many."""
    box = mailbox.mbox(path, create=True)
    box.lock()
    try:
        written = 0
        for message in _messages(session, person):
            box.add(_raw(session, message) or _rebuilt(message))
            written += 1
        box.flush()
    finally:
        box.unlock()
        box.close()
    return written


def _raw(session: Session, message: Message) -> bytes | None:
    """The bytes as they came in or went out, when they are still kept."""
    if message.raw_id is not None:
        return session.scalar(select(Blob.data).where(Blob.id == message.raw_id))
    if message.message_id is None:
        return None
    sent = select(OutboxMail.raw).where(OutboxMail.message_id == message.message_id)
    return session.scalar(sent) or None


def _rebuilt(message: Message) -> EmailMessage:
    mail = EmailMessage()
    for name, value in (
        ("From", message.from_addr),
        ("To", message.to_addrs),
        ("Cc", message.cc_addrs),
        ("Subject", message.subject),
        ("Message-ID", message.message_id),
    ):
        if value:
            mail[name] = value
    mail["Date"] = format_datetime(message.created_at)
    mail[REBUILT] = "from the stored text; the raw mail was not kept"
    mail.set_content(message.full_text or message.text)
    return mail
