"""Claims that let several workers share the work: each mail, clock or survey once.

On PostgreSQL a worker takes a transaction-scoped advisory lock per UID
before it fetches the mail; a UID another worker holds is skipped and left
for it. The lock ends with the transaction that stores the mail and its
receipt, so a worker that dies (SIGKILL) releases its mails at once and they
are taken on the next round, with no lease to wait out. SQLite has one
writer at a time; there the receipt's unique key is the guard.
"""

import zlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, text
from sqlalchemy.dialects.postgresql import ARRAY, BIGINT
from sqlalchemy.orm import InstrumentedAttribute, Session

from maildesk.store.db import execute
from maildesk.store.tables import Ticket

_TRY_LOCKS = text(
    "SELECT uid FROM unnest(:uids) AS uid WHERE pg_try_advisory_xact_lock(:space + uid)"
).bindparams(bindparam("uids", type_=ARRAY(BIGINT)))


def lock_uids(session: Session, mailbox: str, uidvalidity: int, uids: Sequence[int]) -> list[int]:
    """The UIDs of `uids` this transaction now holds, in order; the others are in hand
    elsewhere. A hash collision between two mailboxes only defers a mail to a later round.
    """
    if session.get_bind().dialect.name != "postgresql" or not uids:
        return list(uids)
    space = (zlib.crc32(f"{mailbox}#{uidvalidity}".encode()) & 0x7FFFFFFF) << 32
    held = set(execute(session, _TRY_LOCKS, {"uids": list(uids), "space": space}).scalars())
    return [uid for uid in uids if uid in held]


def due_with_tickets(
    session: Session, model: type, due: InstrumentedAttribute, now: datetime, limit: int
) -> list[tuple[Any, Ticket]]:
    """Rows of `model` whose `due` column has passed, soonest first, with their tickets,
    locked for this transaction. SKIP LOCKED (PostgreSQL) passes over the rows another
    worker holds, so two sweeps share the work; SQLite has one writer at a time."""
    rows = session.execute(
        select(model, Ticket)
        .join(Ticket, Ticket.id == model.ticket_id)
        .where(due <= now)
        .order_by(due, model.id)
        .limit(limit)
        .with_for_update(of=model, skip_locked=True)
    )
    return [(row, ticket) for row, ticket in rows]
