"""Ticket numbers, unique however many workers open tickets at once.

On PostgreSQL they come from a sequence (migration 0005), which holds no lock
until commit, so workers opening tickets do not wait on each other; a
transaction that rolls back leaves a gap, as ticket numbers in RT and
Zammad may. SQLite has one writer at a time anyway: an upserted counter row,
which gives numbers without gaps; a batch of intake reads it once and writes it
once (`read_counter`, `store_counter`: desk/held.py counts in between).
"""

from sqlalchemy import bindparam, select, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from maildesk.store.db import execute
from maildesk.store.tables import Counter

TICKET_COUNTER = "ticket"
_NEXTVAL = text("SELECT nextval('ticket_numbers')")
_UPSERT = sqlite.insert(Counter.__table__).values(name=TICKET_COUNTER, value=1)
_INCREMENT = _UPSERT.on_conflict_do_update(
    index_elements=["name"], set_={"value": Counter.__table__.c.value + 1}
).returning(Counter.__table__.c.value)


_COUNTER = Counter.__table__.c
_READ = select(_COUNTER.value).where(_COUNTER.name == TICKET_COUNTER)
_STORE = sqlite.insert(Counter.__table__).values(name=TICKET_COUNTER, value=bindparam("value"))
_STORE = _STORE.on_conflict_do_update(
    index_elements=["name"], set_={"value": _STORE.excluded.value}
)


def next_ticket_number(session: Session) -> int:
    if uses_sequence(session):
        return execute(session, _NEXTVAL).scalar_one()
    return execute(session, _INCREMENT).scalar_one()


def uses_sequence(session: Session) -> bool:
    """PostgreSQL's numbers come from a sequence; SQLite's from the counter row."""
    return session.get_bind().dialect.name == "postgresql"


def read_counter(session: Session) -> int:
    """The last ticket number the counter row gave (0 for none), SQLite."""
    return execute(session, _READ).scalar() or 0


def store_counter(session: Session, value: int) -> None:
    """Set the counter row to the last number given, SQLite."""
    execute(session, _STORE, {"value": value})
