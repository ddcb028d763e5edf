"""The one place that changes ticket state; every change leaves an Event."""

from datetime import datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from maildesk.message import Incoming, Part
from maildesk.models import (
    Attachment,
    Counter,
    Direction,
    Event,
    MailClass,
    Message,
    Participant,
    Status,
    Ticket,
)

TICKET_COUNTER = "ticket"
# Built once: constructing a statement costs more than running it (see bench/).
_INCREMENT = (
    update(Counter)
    .where(Counter.name == TICKET_COUNTER)
    .values(value=Counter.value + 1)
    .returning(Counter.value)
)
_PARTICIPANT = select(Participant.id).where(
    Participant.ticket_id == bindparam("ticket"), Participant.address == bindparam("address")
)


def next_number(session: Session) -> int:
    """The next ticket number: an atomic increment, safe with several workers."""
    value = session.execute(_INCREMENT).scalar_one_or_none()
    if value is None:
        session.add(Counter(name=TICKET_COUNTER, value=1))
        session.flush()
        value = 1
    return value


def open_ticket(
    session: Session,
    *,
    subject: str,
    customer: str,
    priority: str,
    locale: str,
    now: datetime,
    category: str | None = None,
    team: str | None = None,
    automatic: bool = False,
) -> Ticket:
    ticket = Ticket(
        number=next_number(session),
        subject=subject or "(no subject)",
        status=Status.OPEN,
        priority=priority,
        category=category,
        team=team,
        customer=customer,
        locale=locale,
        automatic=automatic,
        created_at=now,
        updated_at=now,
    )
    session.add(ticket)
    session.flush()
    session.add(Participant(ticket_id=ticket.id, address=customer, role="customer"))
    record(session, ticket, "opened", f"priority {priority}", customer, now)
    return ticket


def add_participant(session: Session, ticket: Ticket, address: str, role: str) -> None:
    """Remember that `address` takes part in `ticket` (the customer always does)."""
    if not address or address == ticket.customer:
        return
    if session.scalar(_PARTICIPANT, {"ticket": ticket.id, "address": address}) is None:
        session.add(Participant(ticket_id=ticket.id, address=address, role=role))


def add_incoming(
    session: Session,
    ticket: Ticket,
    mail: Incoming,
    mail_class: MailClass,
    new_text: str,
    raw_id: int,
    source: str,
    now: datetime,
) -> Message:
    """Store an incoming mail on its ticket, with its attachments."""
    message = Message(
        ticket_id=ticket.id,
        direction=Direction.IN,
        mail_class=mail_class,
        message_id=mail.message_id,
        from_addr=mail.from_addr,
        from_name=mail.from_name,
        to_addrs=", ".join(mail.to),
        cc_addrs=", ".join(mail.cc),
        subject=mail.subject,
        text=new_text,
        full_text=mail.text,
        html=mail.html,
        raw_id=raw_id,
        source=source,
        created_at=now,
    )
    session.add(message)
    session.flush()
    if mail_class is MailClass.HUMAN:
        add_participant(session, ticket, mail.from_addr, "writer")
        for address in mail.cc:
            add_participant(session, ticket, address, "cc")
    ticket.updated_at = now
    return message


def add_attachment(
    session: Session,
    message: Message,
    part: Part,
    blob_id: int | None,
) -> Attachment:
    """Record one MIME part of `message`; blob_id is None when it was not kept."""
    attachment = Attachment(
        message_id=message.id,
        filename=part.filename,
        content_type=part.content_type,
        size=len(part.data),
        blob_id=blob_id,
        inline=part.inline,
        content_id=part.content_id,
    )
    session.add(attachment)
    return attachment


def reopen(session: Session, ticket: Ticket, actor: str, now: datetime) -> None:
    """A customer wrote again on a resolved ticket: it is open again."""
    record(session, ticket, "reopened", f"{ticket.status} -> open", actor, now)
    ticket.status = Status.OPEN
    ticket.resolved_at = None
    ticket.updated_at = now


def record(
    session: Session, ticket: Ticket, kind: str, detail: str, actor: str, now: datetime
) -> Event:
    event = Event(ticket_id=ticket.id, kind=kind, detail=detail, actor=actor, created_at=now)
    session.add(event)
    return event
