"""Claims that let several workers share the work: each mail, clock or survey once.

On PostgreSQL a worker takes an advisory lock per UID before it fetches the
mail; a UID another worker holds is skipped and left for it. The locks live
on a connection of their own and are held until the mails are moved on the
server, after the commit of their receipts: a worker that found the receipts
of mails still being moved would otherwise move them too, and two MOVEs of
one mail at once can leave two copies in the target folder. A worker that
dies (SIGKILL) closes that connection, which releases its mails at once, so
there is no lease to wait out. SQLite has one writer at a time; there the
receipt's unique key is the guard.
"""

import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, bindparam, select, text
from sqlalchemy.dialects.postgresql import ARRAY, BIGINT
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import InstrumentedAttribute, Session

from maildesk.store.tables import Base, Ticket

_TRY_LOCKS = text(
    "SELECT uid FROM unnest(:uids) AS uid WHERE pg_try_advisory_lock(:space + uid)"
).bindparams(bindparam("uids", type_=ARRAY(BIGINT)))
_UNLOCK_ALL = text("SELECT pg_advisory_unlock_all()")


@contextmanager
def hold_uids(
    engine: Engine, mailbox: str, uidvalidity: int, uids: Sequence[int]
) -> Iterator[list[int]]:
    """The UIDs of `uids` this worker now holds, in order, until the block ends; the
    others are in hand elsewhere. A hash collision between two mailboxes only defers a
    mail to a later round."""
    if engine.dialect.name != "postgresql" or not uids:
        yield list(uids)
        return
    space = (zlib.crc32(f"{mailbox}#{uidvalidity}".encode()) & 0x7FFFFFFF) << 32
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        found = connection.execute(_TRY_LOCKS, {"uids": list(uids), "space": space})
        held = set(found.scalars())
        try:
            yield [uid for uid in uids if uid in held]
        finally:
            try:
                connection.execute(_UNLOCK_ALL)
            except DBAPIError:
                connection.invalidate()  # closed: the server drops its locks with it


def due_with_tickets(
    session: Session,
    model: type[Base],
    due: InstrumentedAttribute[Any],
    now: datetime,
    limit: int,
) -> list[tuple[Any, Ticket]]:
    """Rows of `model` (a table with `id` and `ticket_id` columns) whose `due` column has
    passed, soonest first, with their tickets, locked for this transaction. SKIP LOCKED
    (PostgreSQL) passes over the rows another worker holds, so two sweeps share the
    work; SQLite has one writer at a time."""
    columns = model.__table__.c
    rows = session.execute(
        select(model, Ticket)
        .join(Ticket, Ticket.id == columns.ticket_id)
        .where(due <= now)
        .order_by(due, columns.id)
        .limit(limit)
        .with_for_update(of=model, skip_locked=True)
    )
    return [(row, ticket) for row, ticket in rows]
