"""The pipeline for one incoming mail: the STEPS of steps.py, in order, in a savepoint.

`Discard` from a step stops on purpose (a duplicate); an error the mail causes
rolls its savepoint back and the raw bytes are quarantined instead, so one bad
mail never blocks the rest.
An error that is nobody's fault (a locked, lost or full database, a full
disk, a parser that does not start) is not the mail's: it leaves as
TemporaryFailure, the whole transaction rolls back, the mails stay where they
are and are taken again on the next cycle. Mails run in batches of one
transaction (`process_batch`: `poll`, `run`, `import`); `replay` uses
`process`, one mail per transaction.
A transaction is one unit of work: one desk (`App.desk`) with its Batch, whose
read-ahead rolls back with each mail's savepoint.
"""

import errno
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from maildesk.app import App
from maildesk.config import MailboxConfig
from maildesk.desk import held, notice_cap
from maildesk.desk.context import Desk
from maildesk.desk.sla import ledger
from maildesk.errors import Discard, DiskFull, TemporaryFailure
from maildesk.intake import journal, read_ahead
from maildesk.intake.state import Intake
from maildesk.intake.steps import STEPS
from maildesk.mail.message import Incoming
from maildesk.sandbox.worker import Unparseable
from maildesk.store import blobs
from maildesk.store.db import is_transient, transaction, unavailable_is_temporary
from maildesk.store.intake_tables import Quarantine
from maildesk.store.tables import INCOMING_MESSAGE_ID

log = logging.getLogger(__name__)
_NO_SPACE = (errno.ENOSPC, errno.EDQUOT)


class Outcome(StrEnum):
    STORED = "stored"
    DUPLICATE = "duplicate"
    QUARANTINED = "quarantined"


Bookkeeping = Callable[[Session, Outcome], None]


@dataclass(frozen=True)
class Pending:
    """One mail to run: its bytes, where it came from, its parse if done elsewhere
    (prefetch.py), and bookkeeping to write with it (the IMAP receipt and cursor).
    """

    raw: bytes
    source: str
    parsed: Incoming | Unparseable | None = None
    bookkeeping: Bookkeeping | None = None
    mailbox: MailboxConfig | None = None
    uid: int | None = None  # on the IMAP server, for the log


def process(
    app: App,
    raw: bytes,
    source: str,
    *,
    now: datetime | None = None,
    bookkeeping: Bookkeeping | None = None,
    quarantined: Quarantine | None = None,
    parsed: Incoming | Unparseable | None = None,
    mailbox: MailboxConfig | None = None,
) -> Outcome:
    """Run STEPS on one mail in a transaction of its own (`replay`, tests).

    `quarantined` is the row being replayed, updated instead of adding a new one.
    """
    with unit_of_work(app) as (session, desk):
        pending = Pending(raw, source, parsed, bookkeeping, mailbox)
        return process_in(session, app, desk, pending, now or app.clock(), quarantined)


def process_batch(app: App, batch: Sequence[Pending]) -> list[Outcome]:
    """Run STEPS on several mails in one transaction: one commit, not one per mail. Their
    raw bytes are stored first, in a statement or two, and what each would ask the
    database is read for all at once (read_ahead.py)."""
    with unit_of_work(app) as (session, desk):
        pending = [_with_parse(app, one) for one in batch]
        raw_ids = blobs.store_many(session, [one.raw for one in pending])
        mails = [one.parsed for one in pending if isinstance(one.parsed, Incoming)]
        read_ahead.read(session, desk.batch, mails)
        return [
            process_in(session, app, desk, one, app.clock(), raw_stored=raw_id)
            for one, raw_id in zip(pending, raw_ids, strict=True)
        ]


def _with_parse(app: App, pending: Pending) -> Pending:
    """`pending` with its parse; a parser that fails on it leaves that to process_in."""
    if pending.parsed is not None:
        return pending
    try:
        return replace(pending, parsed=_parse(app, pending.raw))
    except Exception as exc:  # noqa: BLE001 - the mail's fault: process_in quarantines it
        raise_unless_mails_fault(exc)
        return pending


@contextmanager
def unit_of_work(app: App) -> Iterator[tuple[Session, Desk]]:
    """One transaction of intake and its desk; the SLA ledger rows, events, participants,
    outgoing mail and senders' counts of its mails go in at its end, a statement per
    table (held.py, notice_cap.counting; a statement per row was most of intake's).
    Its mails count in the Meter once it committed (a rollback takes them again later)."""
    with unavailable_is_temporary(), transaction(app.sessions, write=True) as session:
        desk = app.desk()
        batch = desk.batch
        counting = notice_cap.counting(session, batch)
        with ledger.batched(session, batch), held.holding(session, batch), counting:
            yield session, desk
    for mailbox, mail_class in desk.batch.arrivals:  # committed: now they count
        if mail_class == Outcome.QUARANTINED:
            app.meter.mail_quarantined(mailbox)
        else:
            app.meter.mail_in(mailbox, mail_class)


def process_in(
    session: Session,
    app: App,
    desk: Desk,
    pending: Pending,
    now: datetime,
    quarantined: Quarantine | None = None,
    raw_stored: int | None = None,
) -> Outcome:
    """One mail inside the caller's transaction (its unit of work: `desk`), never raising
    for a bad mail.

    The steps run in a savepoint: a mail that fails is rolled back alone and
    quarantined in the same transaction as the mails beside it, so a crash
    leaves all or nothing, bookkeeping included. An error that is nobody's
    fault (TemporaryFailure, a transient database error) propagates and the
    whole transaction rolls back. A Message-ID that another worker stored
    first, in the moment between our duplicate check and our insert, is a
    duplicate, not a fault.
    """
    mailbox = pending.mailbox.name if pending.mailbox else ""
    started, ctx = time.perf_counter(), None
    try:
        with desk.batch.savepoint(session):
            parsed = pending.parsed if pending.parsed is not None else _parse(app, pending.raw)
            ctx = Intake(pending.raw, pending.source, now, pending.mailbox, parsed, raw_stored)
            outcome = _run_steps(ctx, desk, session)
            if quarantined is not None:
                session.get_one(Quarantine, quarantined.id).replayed_at = now
        if outcome == Outcome.STORED:
            desk.batch.arrivals.append((mailbox, str(ctx.mail_class)))
    except Exception as exc:  # noqa: BLE001 - one mail must never stop the queue
        raise_unless_mails_fault(exc)
        if isinstance(exc, IntegrityError) and lost_message_id_race(exc):
            log.debug("discarded mail from %s: another worker stored it first", pending.source)
            outcome = Outcome.DUPLICATE
        else:
            outcome = _quarantine(session, pending, exc, now, quarantined)
            desk.batch.arrivals.append((mailbox, Outcome.QUARANTINED))
    if pending.bookkeeping:
        pending.bookkeeping(session, outcome)
    journal.mail_in(ctx, outcome, mailbox or None, pending.uid, started)
    return outcome


def raise_unless_mails_fault(exc: Exception) -> None:
    """Re-raise what is nobody's fault: the mail waits for the next cycle. A file system
    out of space (or quota) is one such fault, whatever wrote to it."""
    if isinstance(exc, TemporaryFailure) or is_transient(exc):
        raise exc
    if isinstance(exc, OSError) and exc.errno in _NO_SPACE:
        raise DiskFull(f"disk full: {exc}") from exc


def lost_message_id_race(exc: IntegrityError) -> bool:
    """The unique index of incoming Message-IDs refused our row: another worker was first."""
    return INCOMING_MESSAGE_ID in str(exc.orig) or "messages.message_id" in str(exc.orig)


def _quarantine(
    session: Session,
    pending: Pending,
    exc: Exception,
    now: datetime,
    existing: Quarantine | None,
) -> Outcome:
    """Keep the raw bytes and the reason, for `replay`."""
    _log_quarantine(pending.source, exc)
    reason = f"{type(exc).__name__}: {exc}"[:2000]
    if existing is not None:
        session.get_one(Quarantine, existing.id).reason = reason
    else:
        raw_id = blobs.store(session, pending.raw)
        row = Quarantine(raw_id=raw_id, reason=reason, source=pending.source, created_at=now)
        session.add(row)
    return Outcome.QUARANTINED


def _log_quarantine(source: str, exc: Exception) -> None:
    """A verdict of the parser needs one line; anything else, the traceback."""
    if isinstance(exc, Unparseable):
        log.warning("quarantining mail from %s: %s", source, exc)
    else:
        log.exception("quarantining mail from %s", source, exc_info=exc)


def _parse(app: App, raw: bytes) -> Incoming | Unparseable:
    """The budgeted child's parse, or its verdict (the parse_mail step raises it)."""
    try:
        return app.parser.parse(raw)
    except Unparseable as verdict:
        return verdict


def _run_steps(ctx: Intake, app: Desk, session: Session) -> Outcome:
    try:
        for step in STEPS:
            step(ctx, app, session)
            if ctx.finished:
                break
    except Discard as discard:
        log.debug("discarded mail from %s: %s", ctx.source, discard.reason)
        return Outcome.DUPLICATE
    return Outcome.STORED
