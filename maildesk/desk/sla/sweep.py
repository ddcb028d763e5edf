"""The SLA sweep: clocks whose `next_at` has passed, found through its index, claimed, acted on.

Every minute (daemon/sla_job.py) and idempotent: a clock's `ladder_share` only
grows within a run, and the ledger's unique index on (ticket, clock, run,
level) refuses a second firing, so a level fires once however often the
sweep runs, restarts or races. On PostgreSQL each batch is claimed with FOR
UPDATE SKIP LOCKED, so two daemons sweep different clocks; on SQLite one
writer at a time sees the other's work. A batch's tickets come with its
clocks, the Message-IDs of their threads in one more (threads.known),
its changes are flushed once, at the commit (no_autoflush). A
level missed while the daemon was down fires on its return, marked late; a
warning whose breach has come meanwhile is skipped instead (it would warn of
the past).
"""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from maildesk.desk import threads
from maildesk.desk.context import Desk
from maildesk.desk.sla import clocks, ladder, ledger
from maildesk.store import claims
from maildesk.store.db import transaction
from maildesk.store.deadline_tables import ClockState, SlaClock
from maildesk.store.tables import Ticket

BATCH = 250  # clocks per transaction


@dataclass
class SweepResult:
    looked: int = 0
    breached: int = 0
    skipped: int = 0
    deferred: int = 0  # warnings waiting for working hours (sla.quiet_hours)
    levels: dict[str, int] = field(default_factory=dict)  # fired, by level name

    @property
    def fired(self) -> int:
        return sum(self.levels.values())

    def __bool__(self) -> bool:
        return bool(self.breached or self.fired or self.skipped)


def sweep(sessions: sessionmaker[Session], desk: Desk, now: datetime) -> SweepResult:
    """Act on every clock due by `now`, a batch per transaction."""
    result = SweepResult()
    seen: set[int] = set()
    while True:
        unit = desk.unit()
        with (
            transaction(sessions, write=True) as session,
            session.no_autoflush,
            ledger.batched(session, unit.batch),
        ):
            rows = claims.due_with_tickets(session, SlaClock, SlaClock.next_at, now, BATCH)
            fresh = [(row, ticket) for row, ticket in rows if row.id not in seen]
            with threads.known(session, unit.batch, [ticket.id for _row, ticket in fresh]):
                for row, ticket in fresh:
                    seen.add(row.id)
                    result.looked += 1
                    look(session, unit, row, ticket, now, result)
        if len(rows) < BATCH or not fresh:
            return result


def look(
    session: Session,
    app: Desk,
    row: SlaClock,
    ticket: Ticket,
    now: datetime,
    result: SweepResult,
) -> None:
    """Record a breach that has come, fire the levels whose moment has come, reschedule."""
    if row.state != ClockState.RUNNING:
        row.next_at = None
        return
    late_after = app.config.sla.late_after
    due = clocks.due(row)
    if row.breached_at is None and due <= now:
        row.breached_at = due
        late = (now - due).total_seconds() > late_after
        ledger.log(session, app.batch, ticket, row, "breached", now, "", due, late=late)
        result.breached += 1
    calendar = clocks.calendar_of(app, row.calendar)
    while (level := clocks.next_level(app, ticket, row)) is not None:
        at = clocks.level_moment(calendar, row, level)
        if at > now:
            break
        if level.is_warning and row.breached_at is not None:
            detail = f"warning {level.name} came after the breach"
            ledger.log(
                session, app.batch, ticket, row, "skipped", now, detail, row.due_at, level.name
            )
            row.ladder_share = level.share
            result.skipped += 1
            continue
        if level.is_warning and app.config.sla.quiet_hours:
            business = clocks.business_calendar(app, ticket)
            if not business.is_working(now):
                row.next_at = min(business.next_working_start(now), due)
                result.deferred += 1
                return
        row.ladder_share = level.share
        result.levels[level.name] = result.levels.get(level.name, 0) + 1
        if ladder.fire(session, app, ticket, row, level, at, now):
            return  # recomputed: the new run has its own schedule
    clocks.schedule(app, ticket, row)
