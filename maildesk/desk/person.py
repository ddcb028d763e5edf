"""Where one person's data is: the spellings of their address the desk stored, the
tickets they are the customer of, and the others they took part in.

The address is matched as mail matches it: the local part as written, the
domain in any case (mail/addresses.py). Stored spellings whose local part
differs only in case are not theirs, but are named, so that an operator who
typed `Ann@` learns of `ann@`.
"""

from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from maildesk.mail.addresses import same_address
from maildesk.store.deadline_tables import Survey
from maildesk.store.tables import Contact, Message, Participant, Ticket

# Every column that holds one address: where a spelling of it can be found.
_ADDRESS_COLUMNS = (
    Contact.address,
    Ticket.customer,
    Participant.address,
    Message.from_addr,
    Survey.customer,
)


@dataclass(frozen=True)
class Person:
    address: str  # as asked for
    spellings: tuple[str, ...]  # as stored: "ann@shop.example", "ann@SHOP.example"
    own_tickets: tuple[int, ...]  # ids of the tickets they are the customer of
    other_tickets: tuple[int, ...]  # ids of tickets they wrote on or were copied on
    near: tuple[str, ...] = ()  # stored addresses that differ in the local part's case

    @property
    def tickets(self) -> tuple[int, ...]:
        return self.own_tickets + self.other_tickets

    def is_found(self) -> bool:
        return bool(self.spellings)


def their_messages(person: Person) -> ColumnElement[bool]:
    """Their mails anywhere, and every mail on the tickets they opened (the conversation
    is about them): what `contacts export` gives them and `contacts forget` erases."""
    return or_(Message.from_addr.in_(person.spellings), Message.ticket_id.in_(person.own_tickets))


def find(session: Session, address: str) -> Person:
    """The person who writes from `address`; `is_found()` is False when the desk has
    nothing of theirs."""
    stored: set[str] = set()
    for column in _ADDRESS_COLUMNS:
        found = select(column).where(func.lower(column) == address.lower()).distinct()
        stored.update(session.scalars(found))
    spellings = tuple(sorted(a for a in stored if same_address(a, address)))
    near = tuple(sorted(a for a in stored if a not in spellings))
    own = _ids(session, Ticket.customer.in_(spellings))
    wrote = select(Message.ticket_id).where(Message.from_addr.in_(spellings))
    took_part = select(Participant.ticket_id).where(Participant.address.in_(spellings))
    others = _ids(session, Ticket.id.in_(wrote.union(took_part)), Ticket.id.not_in(own))
    return Person(address, spellings, own, others, near)


def _ids(session: Session, *where: ColumnElement[bool]) -> tuple[int, ...]:
    return tuple(session.scalars(select(Ticket.id).where(*where).order_by(Ticket.id)))
