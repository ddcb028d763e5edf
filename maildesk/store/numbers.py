"""Ticket numbers, unique however many workers open tickets at once.

On PostgreSQL they come from a sequence (migration 0005), which holds no lock
until commit, so workers opening tickets do not wait on each other; a
transaction that rolls back leaves a gap, as ticket numbers in RT and
Zammad may. SQLite has one writer at a time anyway: an upserted counter row,
which gives numbers without gaps.
"""

from sqlalchemy import text
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


def next_ticket_number(session: Session) -> int:
    if session.get_bind().dialect.name == "postgresql":
        return execute(session, _NEXTVAL).scalar_one()
    return execute(session, _INCREMENT).scalar_one()
