"""The one place that changes ticket state; every change leaves an Event.

Tickets are ORM objects (one per unit of work, changed in place). Rows are
inserted with Core statements, which cost a third of an ORM flush and were
most of intake's database time (bench/ingest.py).
"""

from datetime import datetime

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session, make_transient_to_detached

from maildesk.desk.rules import Classification
from maildesk.mail.addresses import MAX_LENGTH, deliverable
from maildesk.mail.classify import MailClass
from maildesk.mail.message import Incoming, Part
from maildesk.mail.plaintext import one_line
from maildesk.store import numbers
from maildesk.store.db import InsertOrSkip, execute
from maildesk.store.tables import (
    Attachment,
    Direction,
    Event,
    Message,
    Participant,
    Status,
    Ticket,
    TicketTag,
)

COPIED = "cc"  # the participants copied on agents' answers (copies.py)
# Built once: constructing a statement costs more than running it (see bench/).
_PARTICIPANT = select(Participant.id).where(
    Participant.ticket_id == bindparam("ticket"), Participant.address == bindparam("address")
)
_INSERT_TICKET = insert(Ticket.__table__).returning(*Ticket.__table__.columns)
_INSERT_PARTICIPANT = InsertOrSkip(Participant.__table__, ["ticket_id", "address"])
_COPY = (
    update(Participant.__table__)
    .where(Participant.ticket_id == bindparam("on"), Participant.address == bindparam("copy"))
    .values(role=COPIED)
)
_INSERT_TAG = InsertOrSkip(TicketTag.__table__, ["ticket_id", "tag"])
_INSERT_MESSAGE = insert(Message.__table__)
_INSERT_ATTACHMENT = insert(Attachment.__table__)
_INSERT_EVENT = insert(Event.__table__)
NO_CUSTOMER = "no_customer_address"


def open_ticket(
    session: Session,
    mail: Incoming,
    found: Classification,
    locale: str,
    now: datetime,
    automatic: bool = False,
    mailbox: str | None = None,
) -> Ticket:
    """A new ticket for `mail` with the priority, category and team the rules found.

    Its customer is the sender when that is one address we deliver to, else
    none (""): a From of two addresses or a quoted local part gets no mail of
    ours, and the ticket says why.
    """
    undeliverable = deliverable(mail.from_addr)
    values = {
        "number": numbers.next_ticket_number(session),
        "subject": mail.subject or "(no subject)",
        "status": Status.OPEN,
        "priority": found.priority,
        "category": found.category,
        "team": found.team,
        "mailbox": mailbox,
        "customer": "" if undeliverable else mail.from_addr,
        "locale": locale,
        "automatic": automatic,
        "created_at": now,
        "updated_at": now,
    }
    ticket = Ticket(**execute(session, _INSERT_TICKET, values).one()._asdict())
    make_transient_to_detached(ticket)  # it is the row just inserted: no flush, no reload
    session.add(ticket)
    record(session, ticket, "opened", f"priority {found.priority}", mail.from_addr, now)
    if undeliverable:
        sender = one_line(mail.from_addr, MAX_LENGTH) or "(none)"
        detail = f"the sender {sender} is not one we deliver to ({undeliverable})"
        detail = f"no customer address: {detail}; nothing is sent to it"
        record(session, ticket, NO_CUSTOMER, detail, "maildesk", now)
    else:
        _insert_participant(session, ticket, ticket.customer, "customer")
    return ticket


def add_participant(session: Session, ticket: Ticket, address: str, role: str) -> None:
    """Remember that `address` takes part in `ticket` (the customer always does)."""
    if not address or address == ticket.customer:
        return
    if not is_participant(session, ticket, address):
        _insert_participant(session, ticket, address, role)


def copy_on_answers(session: Session, ticket: Ticket, address: str) -> None:
    """Copy `address` on agents' answers (#cc, a Cc of the customer's proven mail), whatever
    part it took in the ticket before."""
    if address and address != ticket.customer:
        _insert_participant(session, ticket, address, COPIED)
        execute(session, _COPY, {"on": ticket.id, "copy": address})


def is_participant(session: Session, ticket: Ticket, address: str) -> bool:
    """The customer, or anyone who wrote on or was copied on the ticket."""
    params = {"ticket": ticket.id, "address": address}
    return execute(session, _PARTICIPANT, params).first() is not None


def _insert_participant(session: Session, ticket: Ticket, address: str, role: str) -> None:
    _INSERT_PARTICIPANT(session, {"ticket_id": ticket.id, "address": address, "role": role})


def add_incoming(
    session: Session,
    ticket: Ticket,
    mail: Incoming,
    mail_class: MailClass,
    raw_id: int,
    source: str,
    now: datetime,
) -> int:
    """Store an incoming mail on its ticket, a person's sender as a participant (their
    Cc's: copies.py); returns the id of its messages row."""
    row = {
        "ticket_id": ticket.id,
        "direction": Direction.IN,
        "mail_class": mail_class,
        "message_id": mail.message_id,
        "from_addr": mail.from_addr,
        "from_name": mail.from_name,
        "to_addrs": ", ".join(mail.to),
        "cc_addrs": ", ".join(mail.cc),
        "subject": mail.subject,
        "text": mail.new_text,
        "full_text": mail.text,
        "html": mail.html,
        "raw_id": raw_id,
        "source": source,
        "created_at": now,
    }
    stored = execute(session, _INSERT_MESSAGE, row).inserted_primary_key[0]
    if mail_class is MailClass.HUMAN:
        add_participant(session, ticket, mail.from_addr, "writer")
    ticket.updated_at = now
    return stored


def add_outgoing(session: Session, ticket: Ticket, now: datetime, **fields: str) -> int:
    """Store a mail we send on its ticket (so replies to it thread); returns its row id."""
    row = {"ticket_id": ticket.id, "direction": Direction.OUT, "created_at": now} | fields
    return execute(session, _INSERT_MESSAGE, row).inserted_primary_key[0]


def add_attachment(session: Session, message: int, part: Part, blob_id: int | None) -> None:
    """Record one MIME part of messages row `message`; blob_id is None when it was not kept."""
    row = {
        "message_id": message,
        "filename": part.filename,
        "content_type": part.content_type,
        "size": len(part.data),
        "blob_id": blob_id,
        "inline": part.inline,
        "content_id": part.content_id,
    }
    execute(session, _INSERT_ATTACHMENT, row)


def assign(session: Session, ticket: Ticket, agent: str | None, actor: str, now: datetime) -> None:
    """Give the ticket to `agent` (an email), or to nobody; the agent takes part in it."""
    record(
        session,
        ticket,
        "assigned",
        f"{ticket.assignee or 'nobody'} -> {agent or 'nobody'}",
        actor,
        now,
    )
    ticket.assignee = agent
    ticket.updated_at = now
    if agent:
        add_participant(session, ticket, agent, "agent")


def set_status(session: Session, ticket: Ticket, status: str, actor: str, now: datetime) -> None:
    """Move the ticket to `status`; resolving stamps resolved_at, leaving it clears it."""
    if status == ticket.status:
        return
    record(session, ticket, "status", f"{ticket.status} -> {status}", actor, now)
    ticket.status = status
    ticket.resolved_at = now if status == Status.RESOLVED else None
    ticket.updated_at = now


def set_field(
    session: Session, ticket: Ticket, name: str, value: str | None, actor: str, now: datetime
) -> None:
    """Change `priority` or `team` (an event names the old and new value)."""
    if getattr(ticket, name) == value:
        return
    record(session, ticket, name, f"{getattr(ticket, name) or 'none'} -> {value}", actor, now)
    setattr(ticket, name, value)
    ticket.updated_at = now


def tag(session: Session, ticket: Ticket, words: list[str], actor: str, now: datetime) -> None:
    for word in words:
        _INSERT_TAG(session, {"ticket_id": ticket.id, "tag": word[:64]})
    record(session, ticket, "tags", " ".join(words), actor, now)


def merge(session: Session, ticket: Ticket, survivor: Ticket, actor: str, now: datetime) -> None:
    """Move `ticket`'s messages, people and tags to `survivor`; `ticket` is closed, pointing
    at it, so a later reply to the merged ticket lands on the survivor (follow_up.py)."""
    for model in (Message, Participant, TicketTag):
        rows = session.execute(select(model).where(model.ticket_id == ticket.id)).scalars()
        for row in rows.all():
            if model is Message:
                row.ticket_id = survivor.id
            elif model is Participant:
                add_participant(session, survivor, row.address, row.role)
            else:
                _INSERT_TAG(session, {"ticket_id": survivor.id, "tag": row.tag})
    record(session, ticket, "merged", f"into #{survivor.number}", actor, now)
    record(session, survivor, "merged", f"#{ticket.number} merged into this ticket", actor, now)
    ticket.merged_into = survivor.id
    ticket.status = Status.CLOSED
    ticket.updated_at = survivor.updated_at = now


def link_follow_up(
    session: Session, closed: Ticket, new: Ticket, actor: str, now: datetime
) -> None:
    """A customer wrote again on a closed ticket: the new ticket names it, and it the new one."""
    record(session, new, "follows", f"#{closed.number}", actor, now)
    record(session, closed, "followed_by", f"#{new.number}", actor, now)


def responded(ticket: Ticket, now: datetime) -> None:
    """An agent answered the customer; the first answer is the first response (SLA)."""
    ticket.first_response_at = ticket.first_response_at or now
    ticket.updated_at = now


def reopen(session: Session, ticket: Ticket, actor: str, now: datetime) -> None:
    """A customer wrote again on a resolved ticket: it is open again."""
    record(session, ticket, "reopened", f"{ticket.status} -> open", actor, now)
    ticket.status = Status.OPEN
    ticket.resolved_at = None
    ticket.updated_at = now


def record(
    session: Session, ticket: Ticket, kind: str, detail: str, actor: str, now: datetime
) -> None:
    row = {
        "ticket_id": ticket.id,
        "kind": kind,
        "detail": detail,
        "actor": actor,
        "created_at": now,
    }
    execute(session, _INSERT_EVENT, row)
