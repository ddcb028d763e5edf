"""SLA sweep benchmark: the minutely sweep over a large desk, idle and with 1 % of it due.

Why it exists: the scheduler sweeps every minute (sla.sweep_interval), so a
sweep with nothing due must cost one probe of the `next_at` index however
many tickets are open (target < 50 ms), and a burst of due clocks (a morning's
warnings) must fire and queue its escalation mails within a fraction of the
interval (target < 2 s for 1 000 mails). It prints, on SQLite and on the
suite's throwaway PostgreSQL cluster (tests/postgres.py; skipped with a note
when initdb is missing):

  setup        N open P2 tickets, each with a customer participant and running
               first_response and resolution clocks whose next level lies
               ahead, inserted in bulk (Core executemany, not intake)
  empty sweep  `sweep()` with nothing due, best and median of 20
  1 % sweep    N/100 first-response clocks set 80 % used (the 75 % warning
               passed, the breach not), one sweep timed: levels fired and
               escalation mails queued; three times, each on other tickets

Nothing is asserted. When a 1 % sweep misses its target (or with --profile)
a further batch is swept under cProfile and the top 15 by cumulative time printed.

How to run (repository root, `pip install -e '.[test,postgres]'`):

    python bench/sla_sweep.py                  # N=100000
    python bench/sla_sweep.py --tickets 10000 --profile
"""

import argparse
import cProfile
import os
import pstats
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from harness import desk_head
from sqlalchemy import func, insert, select, text, update

sys.path.insert(0, str(Path(__file__).parent.parent))
from maildesk import config as config_module  # noqa: E402
from maildesk.app import App  # noqa: E402
from maildesk.demo.servers import free_port  # noqa: E402
from maildesk.desk.sla import clocks  # noqa: E402
from maildesk.desk.sla.sweep import sweep  # noqa: E402
from maildesk.store import db  # noqa: E402
from maildesk.store.deadline_tables import ClockState, SlaClock, SlaEvent  # noqa: E402
from maildesk.store.tables import OutboxKind, OutboxMail, Participant, Status, Ticket  # noqa: E402
from tests import postgres  # noqa: E402

# A Wednesday, 14:00 in Shanghai: working time on the default calendar (Mon-Fri 09-18),
# with enough of the day behind it that a clock started this morning is 80 % used.
NOW = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)
AGENTS = 20
PRIORITY = "P2"
TEAM = "support"
SPREAD = 1800  # tickets were created over the last half hour
EMPTY_RUNS = 20
ROUNDS = 3
USED_SHARE = 0.80  # of the first-response target, at NOW, for the clocks made due
CHUNK = 5000  # rows per executemany
EMPTY_TARGET, DUE_TARGET = 0.050, 2.0


def config_text(url: str) -> str:
    """[desk], [database], a dummy [smtp] (nothing is sent), 20 agents and a lead in one team."""
    agents = "".join(
        f'\n[[agents]]\nemail = "agent{n:02d}@desk.example"\nname = "Agent {n}"\nteam = "{TEAM}"\n'
        for n in range(AGENTS)
    )
    return (
        desk_head(url)
        + f"""{agents}
[[agents]]
email = "lead@desk.example"
name = "Lead"
role = "lead"

[[teams]]
name = "{TEAM}"
assign = "round_robin"
leads = ["lead@desk.example"]
"""
    )


def build_app(work: Path, url: str) -> App:
    path = work / "maildesk.toml"
    path.write_text(config_text(url), encoding="utf-8")
    return App.build(config_module.load(path))


@dataclass(frozen=True)
class Plan:
    """What the code would compute for a fresh P2 ticket of the team: per clock, its
    target and calendar, and the share of its first ladder level."""

    targets: dict[str, tuple[float, str]]
    first_share: dict[str, int]

    @classmethod
    def of(cls, app: App) -> "Plan":
        probe = Ticket(priority=PRIORITY, team=TEAM)
        targets = {c: clocks.target(app, probe, c) for c in ("first_response", "resolution")}
        shares = {c: app.config.sla.levels(PRIORITY, c)[0].share for c in targets}
        return cls(targets, shares)


def _chunks(rows: list[dict], size: int = CHUNK) -> Iterator[list[dict]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def populate(app: App, n: int, plan: Plan) -> None:
    """N tickets, their customers and running clocks, in bulk; due times as clocks.schedule."""
    agents = [a.email for a in app.config.members(TEAM)]
    tickets, people, rows = [], [], []
    for i in range(1, n + 1):
        created = NOW - timedelta(seconds=i % SPREAD)
        customer = f"customer{i}@example.com"
        due: dict[str, datetime] = {}
        for clock, (seconds, calendar_name) in plan.targets.items():
            calendar = clocks.calendar_of(app, calendar_name)
            due[clock] = calendar.add(created, seconds)
            rows.append(
                {
                    "ticket_id": i,
                    "clock": clock,
                    "state": ClockState.RUNNING,
                    "run": 1,
                    "target_seconds": seconds,
                    "calendar": calendar_name,
                    "used_seconds": 0.0,
                    "running_since": created,
                    "due_at": due[clock],
                    "breached_at": None,
                    "ladder_share": 0,
                    "next_at": calendar.add(created, seconds * plan.first_share[clock] / 100),
                }
            )
        tickets.append(
            {
                "id": i,
                "number": i,
                "subject": f"Bench ticket {i}",
                "status": Status.OPEN,
                "priority": PRIORITY,
                "team": TEAM,
                "assignee": agents[i % len(agents)],
                "customer": customer,
                "locale": "en",
                "automatic": False,
                "created_at": created,
                "updated_at": created,
                "first_response_due": due["first_response"],
                "resolution_due": due["resolution"],
            }
        )
        people.append({"ticket_id": i, "address": customer, "role": "customer"})
    with app.engine.begin() as connection:
        for table, values in (
            (Ticket.__table__, tickets),
            (Participant.__table__, people),
            (SlaClock.__table__, rows),
        ):
            for chunk in _chunks(values):
                connection.execute(insert(table), chunk)
        if app.engine.dialect.name == "postgresql":
            connection.execute(text("ANALYZE"))  # what autovacuum would do after such a load


def check_schedule(app: App, sample: int = 5) -> None:
    """The bulk due times must be what clocks.schedule computes; exit if not."""
    with app.sessions() as session:
        for row in session.scalars(select(SlaClock).order_by(SlaClock.id).limit(2 * sample)):
            stored = (row.due_at, row.next_at)
            clocks.schedule(app, session.get(Ticket, row.ticket_id), row)
            if (row.due_at, row.next_at) != stored:
                raise SystemExit(
                    f"bulk clock {row.ticket_id}/{row.clock} has due/next {stored}, "
                    f"clocks.schedule says {(row.due_at, row.next_at)}"
                )
        session.rollback()


def make_due(app: App, plan: Plan, batch: int) -> int:
    """First-response clocks of tickets with id % 100 == batch: 80 % used at NOW, so the
    warning is due and the breach not. Returns how many."""
    seconds, calendar_name = plan.targets["first_response"]
    calendar = clocks.calendar_of(app, calendar_name)
    since = NOW - timedelta(seconds=USED_SHARE * seconds)
    used = calendar.working_seconds(since, NOW)
    if abs(used - USED_SHARE * seconds) > 1:
        raise SystemExit(f"NOW {NOW} leaves {used:.0f} working s since {since}: move NOW")
    due_at = calendar.add(since, seconds)
    warn_at = calendar.add(since, seconds * plan.first_share["first_response"] / 100)
    picked = (SlaClock.clock == "first_response") & (SlaClock.ticket_id % 100 == batch)
    with app.engine.begin() as connection:
        count = connection.execute(
            update(SlaClock)
            .where(picked)
            .values(running_since=since, due_at=due_at, next_at=warn_at)
        ).rowcount
        connection.execute(
            update(Ticket).where(Ticket.id % 100 == batch).values(first_response_due=due_at)
        )
    return count


def counts(app: App) -> tuple[int, int]:
    """(escalation mails in the outbox, level events in the ledger)."""
    with app.engine.connect() as connection:
        mails = connection.scalar(
            select(func.count()).where(OutboxMail.kind == OutboxKind.ESCALATION)
        )
        levels = connection.scalar(select(func.count()).where(SlaEvent.kind == "level"))
    return mails, levels


@dataclass(frozen=True)
class DueSweep:
    made_due: int
    seconds: float
    cpu_seconds: float  # this process's: on PostgreSQL the rest is the server and the wire
    fired: int
    mails: int


@dataclass
class Figures:
    database: str
    tickets: int
    setup: float = 0.0
    empty: list[float] = field(default_factory=list)
    due: list[DueSweep] = field(default_factory=list)


def timed(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def due_sweep(app: App, plan: Plan, batch: int, figures: Figures) -> None:
    """One 1 % sweep, timed; fired levels and queued mails checked against the ledger."""
    made = make_due(app, plan, batch)
    mails_before, levels_before = counts(app)
    cpu, start = time.process_time(), time.perf_counter()
    result = sweep(app.sessions, app.desk(), NOW)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    mails, levels = counts(app)
    if levels - levels_before != result.fired:
        print(f"  note: sweep says {result.fired} fired, ledger {levels - levels_before}")
    done = DueSweep(made, seconds, cpu, result.fired, mails - mails_before)
    figures.due.append(done)
    print(
        f"  1 % sweep #{len(figures.due)}: {made} due, {seconds:.2f} s (cpu {cpu:.2f} s), "
        f"{done.fired} fired, {done.mails} mails queued, load {load()}",
        flush=True,
    )


def load() -> str:
    """The 1-minute load average: other work on the machine skews every figure here."""
    return f"{os.getloadavg()[0]:.1f}"


def profile_sweep(app: App, plan: Plan, batch: int) -> None:
    """Where a 1 % sweep's time goes: one more batch under cProfile (slower than untraced)."""
    make_due(app, plan, batch)
    profiler = cProfile.Profile()
    profiler.runcall(sweep, app.sessions, app.desk(), NOW)
    print("  profile of one more 1 % sweep (top 15 by cumulative time):")
    pstats.Stats(profiler, stream=sys.stdout).sort_stats("cumulative").print_stats(15)


def run(database: str, url: str, work: Path, n: int, profile: bool) -> Figures:
    """Set up, sweep empty, sweep 1 % three times (and profile a fourth when asked/slow)."""
    print(f"== {database}, {n} tickets (load {load()}, {os.cpu_count()} cores) ==", flush=True)
    app = build_app(work, url)
    try:
        if database == "SQLite":
            db.upgrade(app.engine)
        figures = Figures(database, n)
        plan = Plan.of(app)
        figures.setup = timed(lambda: populate(app, n, plan))
        print(f"  setup {figures.setup:.1f} s", flush=True)
        check_schedule(app)
        if sweep(app.sessions, app.desk(), NOW).looked:
            raise SystemExit("something is due before the benchmark made it so")
        figures.empty = [
            timed(lambda: sweep(app.sessions, app.desk(), NOW)) for _ in range(EMPTY_RUNS)
        ]
        print(
            f"  empty sweep best {1000 * min(figures.empty):.1f} ms, "
            f"median {1000 * statistics.median(figures.empty):.1f} ms",
            flush=True,
        )
        for batch in range(ROUNDS):
            due_sweep(app, plan, batch, figures)
        if profile or any(d.seconds > DUE_TARGET for d in figures.due):
            profile_sweep(app, plan, ROUNDS)
        return figures
    finally:
        app.close()


def table(rows: list[Figures]) -> None:
    print(
        f"\n{'database':10} {'tickets':>8} {'empty ms best/median':>21} "
        f"{'1 % sweep s':>18} {'fired':>17} {'mails':>17} {'setup s':>8}"
    )
    for f in rows:
        empty = f"{1000 * min(f.empty):.1f} / {1000 * statistics.median(f.empty):.1f}"
        runs = " ".join(f"{d.seconds:.2f}" for d in f.due)
        fired = " ".join(str(d.fired) for d in f.due)
        mails = " ".join(str(d.mails) for d in f.due)
        print(
            f"{f.database:10} {f.tickets:8d} {empty:>21} {runs:>18} {fired:>17} {mails:>17} "
            f"{f.setup:8.1f}"
        )
    print(f"targets: empty sweep < {1000 * EMPTY_TARGET:.0f} ms, 1 % sweep < {DUE_TARGET:.0f} s")


@contextmanager
def postgres_cluster() -> Iterator[postgres.PostgresCluster | None]:
    """The suite's throwaway cluster, or None (with a note) when PostgreSQL is not installed."""
    try:
        cluster = postgres.start(free_port())
    except FileNotFoundError as exc:
        print(f"PostgreSQL skipped: {exc} not found\n")
        yield None
        return
    try:
        yield cluster
    finally:
        postgres.stop(cluster)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--profile", action="store_true", help="profile a 1 %% sweep anyway")
    args = parser.parse_args(argv)
    if args.tickets < 100:
        parser.error("--tickets must be at least 100 (1 % of them are made due)")
    os.environ.setdefault("MAILDESK_SECRET", secrets.token_hex(16))
    work = Path(tempfile.mkdtemp(prefix=f"maildesk-sla-sweep-{args.tickets}-"))
    try:
        found = [run("SQLite", f"sqlite:///{work / 'desk.db'}", work, args.tickets, args.profile)]
        with postgres_cluster() as cluster:
            if cluster is not None:
                url = cluster.new_database()
                found.append(run("PostgreSQL", url, work, args.tickets, args.profile))
        table(found)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
