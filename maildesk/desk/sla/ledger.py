"""The SLA ledger: every step of every clock as a row of sla_events, and the time used
replayed from it, so that any due time can be recomputed and audited.

The sweep writes a batch's rows in one statement (`batched`, held on the
unit's Batch); whatever reads the ledger first writes what is held back (`flush`).
"""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from maildesk.desk.batch import Batch
from maildesk.desk.calendar import Clockwork
from maildesk.store.db import execute
from maildesk.store.deadline_tables import SlaClock, SlaEvent
from maildesk.store.tables import Ticket

_INSERT_EVENT = insert(SlaEvent.__table__)
_OPEN_SPAN = {"started", "resumed", "restarted"}
_CLOSE_SPAN = {"paused", "met", "stopped"}


def log(
    session: Session,
    batch: Batch,
    ticket: Ticket,
    row: SlaClock,
    kind: str,
    at: datetime,
    detail: str = "",
    due_at: datetime | None = None,
    level: str | None = None,
    late: bool = False,
) -> None:
    values = {
        "ticket_id": ticket.id,
        "clock": row.clock,
        "run": row.run,
        "kind": kind,
        "level": level,
        "at": at,
        "due_at": due_at,
        "late": late,
        "detail": detail,
    }
    if batch.ledger is None:
        execute(session, _INSERT_EVENT, values)
    else:
        batch.ledger.append(values)


@contextmanager
def batched(session: Session, batch: Batch) -> Iterator[None]:
    """The ledger rows of a block written in one statement at its end: the sweep's batch
    (a round trip per row was a fifth of its time on PostgreSQL)."""
    batch.ledger = []
    try:
        yield
        flush(session, batch)
    finally:
        batch.ledger = None


def flush(session: Session, batch: Batch) -> None:
    """Write the ledger rows held back, before anything reads the ledger."""
    if batch.ledger:
        execute(session, _INSERT_EVENT, list(batch.ledger))
        batch.ledger.clear()


def replay(events: Iterable[SlaEvent], calendar: Clockwork, now: datetime) -> float:
    """The time a clock has used, from its ledger: the sum of its running spans."""
    used, since = 0.0, None
    for event in events:
        if event.kind in _OPEN_SPAN and since is None:
            since = event.at
        elif event.kind in _CLOSE_SPAN and since is not None:
            used += calendar.working_seconds(since, event.at)
            since = None
        if event.kind == "started":
            used, since = 0.0, event.at
    if since is not None:
        used += calendar.working_seconds(since, now)
    return used


def of_ticket(session: Session, batch: Batch, ticket: Ticket) -> dict[str, list[SlaEvent]]:
    flush(session, batch)
    rows = session.scalars(
        select(SlaEvent).where(SlaEvent.ticket_id == ticket.id).order_by(SlaEvent.id)
    )
    found: dict[str, list[SlaEvent]] = {}
    for event in rows:
        found.setdefault(event.clock, []).append(event)
    return found
