"""Append-only rows a unit of work holds back and writes together, a statement per table:
events, participants, outgoing mail, outbox rows and their recipients (a statement per
row was half of intake's; issue #20).

Intake holds them (`holding`, around its batch, in the batch's one transaction: a
crash loses all of it, and its mails are fetched again); every other unit writes at
once. What reads these tables inside a holding unit either looks at the held rows too
(threads.py, loops.count_recent, tickets.is_participant) or writes them first
(`flush`), as the SLA ledger is (sla/ledger.py).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from maildesk.desk.batch import Batch, Held
from maildesk.store import numbers
from maildesk.store.db import InsertOrSkip, execute
from maildesk.store.tables import Event, Message, OutboxMail, OutboxRecipient, Participant

_INSERT = {
    "events": insert(Event.__table__),
    "messages": insert(Message.__table__),
}
# Ids by Message-ID (unique): asking them in the rows' order makes SQLite insert one by one.
_OUTBOX = OutboxMail.__table__.c
_INSERT_OUTBOX = insert(OutboxMail.__table__).returning(_OUTBOX.message_id, _OUTBOX.id)
_INSERT_RECIPIENT = insert(OutboxRecipient.__table__)
_INSERT_PARTICIPANT = InsertOrSkip(Participant.__table__, ["ticket_id", "address"])


def add(session: Session, batch: Batch, table: str, row: dict[str, Any]) -> None:
    """Hold `row` of `table` when the unit holds, else write it now."""
    if batch.held is None:
        _write(session, table, [row])
    else:
        batch.held.rows[table].append(row)


def ticket_number(session: Session, batch: Batch) -> int:
    """The next ticket number; on SQLite a holding unit reads the counter once and
    writes it with its rows (one writer holds the database till the unit commits)."""
    if batch.held is None or numbers.uses_sequence(session):
        return numbers.next_ticket_number(session)
    last = batch.numbered[0] if batch.numbered else numbers.read_counter(session)
    batch.numbered = (last + 1, False)
    return last + 1


def waiting(batch: Batch, table: str) -> list[dict[str, Any]]:
    """The rows of `table` held and not yet written, for a reader to count with the
    database's (none when the unit does not hold)."""
    return batch.held.unwritten(table) if batch.held is not None else []


@contextmanager
def holding(session: Session, batch: Batch) -> Iterator[None]:
    """Hold the rows of this block and write them at its end (intake's batch)."""
    batch.held = Held()
    try:
        yield
        flush(session, batch)
    finally:
        batch.held, batch.numbered = None, None


def flush(session: Session, batch: Batch) -> None:
    """Write what is held back, before anything reads it from the database."""
    held = batch.held
    if held is None:
        return
    if batch.numbered is not None and not batch.numbered[1]:
        numbers.store_counter(session, batch.numbered[0])
        batch.numbered = (batch.numbered[0], True)
    for table, rows in held.rows.items():
        if len(rows) > held.written[table]:
            _write(session, table, held.unwritten(table))
            held.written[table] = len(rows)


def _write(session: Session, table: str, rows: list[dict[str, Any]]) -> None:
    if table == "outbox":
        mails = [{k: v for k, v in row.items() if k != "recipients"} for row in rows]
        ids = {message_id: id_ for message_id, id_ in execute(session, _INSERT_OUTBOX, mails)}
        envelopes = [
            recipient | {"outbox_id": ids[row["message_id"]]}
            for row in rows
            for recipient in row["recipients"]
        ]
        execute(session, _INSERT_RECIPIENT, envelopes)
    elif table == "participants":
        _INSERT_PARTICIPANT(session, rows)  # one who takes part already keeps their part
    else:
        execute(session, _INSERT[table], rows)
