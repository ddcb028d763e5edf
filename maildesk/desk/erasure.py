"""`contacts forget`: one person's data erased, their tickets kept as anonymous counts.

What goes: the text, names, raw bytes and attachments of their mails and of
every mail on the tickets they opened (the conversation is about them), their
address wherever it was written (tickets, To and Cc lists, events, surveys'
comments, the outbox), the mail we still meant to send them, and their
contact row. Attachments' bytes stay while another ticket's mail uses them
(blobs are shared, store/blobs.py). What stays: the tickets with their
priority, status, times, category, tags, SLA clocks and ratings, so the
report's figures do not change; each of their tickets gets a `forgotten`
event saying when and who asked. Quarantined mail is not searched: it is
raw bytes nobody parsed (`replay` it or delete it first).
"""

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, delete, func, or_, select, update
from sqlalchemy.orm import Session

from maildesk.desk import tickets
from maildesk.desk.batch import Batch
from maildesk.desk.person import Person, their_messages
from maildesk.mail.addresses import pattern
from maildesk.store import blobs
from maildesk.store.db import update_rows
from maildesk.store.deadline_tables import SenderNotices, Survey
from maildesk.store.tables import (
    Attachment,
    Contact,
    Event,
    Message,
    OutboxMail,
    OutboxRecipient,
    OutboxStatus,
    Participant,
    Ticket,
)

FORGOTTEN = "(forgotten)"  # what stands where their address or their text was
EVENT = "forgotten"


@dataclass
class Erased:
    tickets: int = 0
    messages: int = 0
    attachments: int = 0
    blobs: int = 0  # deleted; those another ticket's mail uses stay
    unsent: int = 0  # mail to them or on their tickets that will not go out


def forget(session: Session, person: Person, by: str, now: datetime) -> Erased:
    """Erase `person` (found by desk/person.py) in this transaction, at the request of `by`."""
    erased = Erased(tickets=len(person.tickets))
    theirs = their_messages(person)
    freed = list(
        session.scalars(select(Message.raw_id).where(theirs, Message.raw_id.is_not(None)))
    )
    of_theirs = Attachment.message_id.in_(select(Message.id).where(theirs))
    freed += session.scalars(
        select(Attachment.blob_id).where(of_theirs, Attachment.blob_id.is_not(None))
    )
    erased.attachments = update_rows(
        session, update(Attachment).where(of_theirs), filename="", blob_id=None
    )
    wiped = {"subject": "", "text": "", "full_text": "", "html": None, "from_name": ""}
    erased.messages = update_rows(session, update(Message).where(theirs), raw_id=None, **wiped)
    update_rows(
        session, update(Message).where(Message.from_addr.in_(person.spellings)), from_addr=""
    )
    _scrub_lists(session, person)
    erased.unsent = _outbox(session, person)
    erased.blobs = blobs.drop_unused(session, freed)
    _tickets(session, person)
    _events(session, person)
    update_rows(session, update(Survey).where(_survey_of(person)), customer="", comment=None)
    session.execute(delete(SenderNotices).where(SenderNotices.sender.in_(person.spellings)))
    session.execute(delete(Participant).where(Participant.address.in_(person.spellings)))
    session.execute(delete(Contact).where(Contact.address.in_(person.spellings)))
    for ticket in session.scalars(select(Ticket).where(Ticket.id.in_(person.tickets))):
        detail = f"a person's data was removed from this ticket at the request of {by}"
        tickets.record(session, Batch(), ticket, EVENT, detail, by, now)
    return erased


def _survey_of(person: Person) -> ColumnElement[bool]:
    return or_(Survey.customer.in_(person.spellings), Survey.ticket_id.in_(person.own_tickets))


def _replace(person: Person, text: str) -> str:
    return re.sub(pattern(person.address), FORGOTTEN, text)


def _scrub_lists(session: Session, person: Person) -> None:
    """Their address out of the To and Cc lists of the mails on the tickets they were on."""
    on_theirs = select(Message).where(Message.ticket_id.in_(person.tickets))
    for message in session.scalars(on_theirs):
        message.to_addrs = _replace(person, message.to_addrs)
        message.cc_addrs = _replace(person, message.cc_addrs)


def _tickets(session: Session, person: Person) -> None:
    """Their tickets keep their figures; the subject and summary were their words."""
    own = update(Ticket).where(Ticket.id.in_(person.own_tickets))
    update_rows(session, own, customer="", subject=FORGOTTEN)
    update_rows(session, own.where(Ticket.resolution.is_not(None)), resolution=FORGOTTEN)


def _events(session: Session, person: Person) -> None:
    """Their address out of every event that names it, as actor or in the detail."""
    folded = person.address.lower()
    naming = or_(
        func.lower(Event.actor) == folded,
        func.lower(Event.detail).contains(folded, autoescape=True),
    )
    for event in session.scalars(select(Event).where(naming)):
        event.actor = _replace(person, event.actor)
        event.detail = _replace(person, event.detail)


def _outbox(session: Session, person: Person) -> int:
    """The bytes of sent mail on their tickets or to them cleared; mail not sent yet on
    their tickets deleted, and elsewhere they are taken off its envelope. How many of
    the unsent mails they would have had."""
    to_them = OutboxRecipient.address.in_(person.spellings)
    addressed = select(OutboxRecipient.outbox_id).where(to_them)
    concerned = or_(OutboxMail.ticket_id.in_(person.own_tickets), OutboxMail.id.in_(addressed))
    sent = OutboxMail.status == OutboxStatus.SENT
    update_rows(session, update(OutboxMail).where(concerned, sent), raw=b"")
    unsent_ids = select(OutboxMail.id).where(OutboxMail.ticket_id.in_(person.own_tickets), ~sent)
    dropped = list(session.scalars(unsent_ids))
    session.execute(delete(OutboxRecipient).where(OutboxRecipient.outbox_id.in_(dropped)))
    session.execute(delete(OutboxMail).where(OutboxMail.id.in_(dropped)))
    unsent_to_them = select(OutboxMail.id).where(~sent)
    taken_off = session.execute(
        delete(OutboxRecipient).where(to_them, OutboxRecipient.outbox_id.in_(unsent_to_them))
    ).rowcount  # type: ignore[attr-defined]
    update_rows(
        session, update(OutboxRecipient).where(to_them), address=FORGOTTEN, mailbox="", domain=""
    )
    return len(dropped) + taken_off
