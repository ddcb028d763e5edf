"""Report benchmark: `maildesk report` over a desk of 100 000 tickets and 1 000 000 events.

Why it exists: `report` is what leads run at the end of a month, over a
desk's whole history too; it must answer in < 3 s and < 300 MB however big
the desk (issue #20), on SQLite and on PostgreSQL. It prints, on SQLite and
on the suite's throwaway PostgreSQL cluster (tests/postgres.py; skipped with
a note when initdb is missing):

  setup   N tickets spread over four months (priorities, statuses, teams,
          categories, tags, automatic ones), 10 events a ticket on average
          (opened, assigned, status changes, resolutions, reopenings, survey
          answers, notes), their SLA clocks and ledger (started, met, ladder
          levels) and surveys, inserted in bulk (Core executemany, not intake)
  runs    `maildesk report` in a child process for the last full month and
          for the whole range, as text and as JSON, and the whole range with
          --html: wall time, CPU and peak RSS of the child (os.wait4), best of 2

Nothing is asserted. How to run (repository root, `pip install -e '.[test,postgres]'`):

    python bench/report.py                   # N=100000, 1 000 000 events
    python bench/report.py --tickets 10000
"""

import argparse
import os
import random
import secrets
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from harness import MIB, ChildRun, desk_head, run_child
from sla_sweep import load, postgres_cluster
from sqlalchemy import create_engine, insert, text

sys.path.insert(0, str(Path(__file__).parent.parent))
from maildesk.store import db  # noqa: E402
from maildesk.store.deadline_tables import SlaClock, SlaEvent, Survey  # noqa: E402
from maildesk.store.tables import Event, Ticket, TicketTag  # noqa: E402

NOW = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)
DAYS = 122  # the history: 2026-08-02 to 2026-12-02
MONTH = (date(2026, 11, 1), date(2026, 12, 1))
WHOLE = ((NOW - timedelta(days=DAYS)).date(), NOW.date() + timedelta(days=1))
EVENTS_PER_TICKET = 10
CHUNK = 2000  # tickets per round of executemany
REPEAT = 2
TARGET_SECONDS, TARGET_MIB = 3.0, 300
TEAMS = ("support", "billing", "key-accounts")
AGENTS = {team: [f"{team}{n}@desk.example" for n in range(8)] for team in TEAMS}
PRIORITIES = {"P0": 2, "P1": 10, "P2": 55, "P3": 33}  # weights
RESPONSE_MINUTES = {"P0": 10, "P1": 25, "P2": 90, "P3": 200}  # means
RESOLUTION_MINUTES = {"P0": 120, "P1": 300, "P2": 900, "P3": 2400}
CATEGORIES = [f"category-{n}" for n in range(25)] + ["登录", "invoice", "outage", None]
TAGS = [f"tag{n}" for n in range(40)] + ["vpn", "printer", "urgent"]
CLOCK_TARGETS = {"first_response": RESPONSE_MINUTES, "resolution": RESOLUTION_MINUTES}


def config_text(url: str) -> str:
    """The desk: three teams of eight agents, the default SLA policies and ladder."""
    agents = "".join(
        f'[[agents]]\nemail = "{a}"\nname = "{a.split("@")[0]}"\nteam = "{team}"\n'
        for team, names in AGENTS.items()
        for a in names
    )
    teams = "".join(
        f'[[teams]]\nname = "{t}"\nassign = "round_robin"\nleads = ["{AGENTS[t][0]}"]\n'
        for t in TEAMS
    )
    return (
        desk_head(url)
        + f"""
{agents}
{teams}"""
    )


def minutes(rng: random.Random, mean: float) -> timedelta:
    return timedelta(minutes=rng.expovariate(1 / mean) + 0.5, microseconds=rng.randrange(10**6))


def ticket_rows(i: int, rng: random.Random) -> dict[str, list[dict]]:
    """Ticket i with its events, tags, clocks, ledger and surveys, as plain rows."""
    created = NOW - timedelta(seconds=rng.uniform(0, DAYS * 86400))
    priority = rng.choices(list(PRIORITIES), weights=list(PRIORITIES.values()))[0]
    team = rng.choice(TEAMS)
    agent = rng.choice(AGENTS[team])
    automatic = rng.random() < 0.04
    old = NOW - created > timedelta(days=10)
    status = rng.choices(
        ["closed", "resolved", "open", "pending"],
        weights=[85, 5, 6, 4] if old else [20, 35, 30, 15],
    )[0]
    unanswered = automatic or rng.random() < 0.07
    answered = None if unanswered else created + minutes(rng, RESPONSE_MINUTES[priority])
    solved = created + minutes(rng, RESOLUTION_MINUTES[priority])
    reopened = status in ("closed", "resolved") and rng.random() < 0.08
    events = [
        ("opened", f"priority {priority}", created),
        ("assigned", f"nobody -> {agent}", created),
    ]
    if status == "pending" or rng.random() < 0.2:
        events.append(("status", "open -> pending", created + timedelta(minutes=30)))
        if status != "pending":
            events.append(("status", "pending -> open", created + timedelta(minutes=90)))
    if rng.random() < 0.1:
        events.append(("priority", f"{priority} -> P1", created + timedelta(minutes=5)))
    last_resolved = None
    if status in ("closed", "resolved"):
        last_resolved = solved
        events.append(("status", "open -> resolved", solved))
        if reopened:
            events.append(("reopened", "resolved -> open", solved + timedelta(hours=20)))
            last_resolved = solved + timedelta(hours=30)
            events.append(("status", "open -> resolved", last_resolved))
        if status == "closed":
            events.append(("status", "resolved -> closed", last_resolved + timedelta(days=7)))
    for _ in range(rng.randint(EVENTS_PER_TICKET - 3, EVENTS_PER_TICKET + 3) - len(events)):
        kind = rng.choice(["note", "commands", "tags", "cc_not_copied", "survey_answer"])
        events.append((kind, f"{kind} of ticket {i}", created + minutes(rng, 600)))
    rows: dict[str, list[dict]] = {
        "tickets": [
            {
                "id": i,
                "number": i,
                "subject": f"Bench ticket {i}",
                "status": status,
                "priority": priority,
                "category": rng.choice(CATEGORIES),
                "team": team,
                "assignee": agent,
                "customer": f"customer{i % 30000}@example.com",
                "locale": "en",
                "automatic": automatic,
                "created_at": created,
                "updated_at": created,
                "first_response_at": answered,
                "resolved_at": last_resolved if status == "resolved" else None,
            }
        ],
        "events": [
            {"ticket_id": i, "kind": k, "detail": d, "actor": agent, "created_at": at}
            for k, d, at in events
        ],
        "tags": [{"ticket_id": i, "tag": t} for t in set(rng.choices(TAGS, k=rng.randint(0, 3)))],
        "clocks": [],
        "ledger": [],
        "surveys": [],
    }
    if automatic:
        return rows
    done = {"first_response": answered, "resolution": last_resolved}
    for clock, targets in CLOCK_TARGETS.items():
        target = timedelta(minutes=targets[priority] * 1.5)
        used = (done[clock] or NOW) - created
        state = "met" if done[clock] else ("paused" if status == "pending" else "running")
        state = "stopped" if state != "met" and status == "closed" else state
        breached = created + target if used > target else None
        rows["clocks"].append(
            {
                "ticket_id": i,
                "clock": clock,
                "state": state,
                "run": 1,
                "target_seconds": target.total_seconds(),
                "calendar": "24x7",
                "used_seconds": used.total_seconds(),
                "due_at": created + target,
                "breached_at": breached,
                "ladder_share": 0,
            }
        )
        ledger = [("started", None, created)] + (
            [("met", None, done[clock])] if done[clock] else []
        )
        for level, share in (("warn", 0.75), ("L1", 1.0), ("L2", 1.5), ("L3", 2.0)):
            if used > target * share:
                ledger.append(("level", level, created + target * share))
        rows["ledger"] += [
            {"ticket_id": i, "clock": clock, "run": 1, "kind": k, "level": lv, "at": at}
            | {"due_at": created + target, "late": False, "detail": ""}
            for k, lv, at in ledger
        ]
    if last_resolved is not None and rng.random() < 0.85:
        state = rng.choices(["answered", "expired", "sent", "skipped"], weights=[30, 50, 5, 15])[0]
        rating = rng.choices([1, 2, 3, 4, 5], weights=[5, 5, 10, 30, 50])[0]
        rows["surveys"].append(
            {
                "ticket_id": i,
                "customer": f"customer{i % 30000}@example.com",
                "agent": agent,
                "team": team,
                "state": state,
                "resolved_at": last_resolved,
                "rating": rating if state == "answered" else None,
                "detail": "",
            }
        )
    return rows


TABLES = {
    "tickets": Ticket.__table__,
    "events": Event.__table__,
    "tags": TicketTag.__table__,
    "clocks": SlaClock.__table__,
    "ledger": SlaEvent.__table__,
    "surveys": Survey.__table__,
}


def chunks(n: int) -> Iterator[dict[str, list[dict]]]:
    """The rows of CHUNK tickets at a time, so the setup's memory stays flat."""
    rng = random.Random(20)
    for start in range(1, n + 1, CHUNK):
        found: dict[str, list[dict]] = {name: [] for name in TABLES}
        for i in range(start, min(start + CHUNK, n + 1)):
            for name, rows in ticket_rows(i, rng).items():
                found[name] += rows
        yield found


def populate(url: str, n: int) -> dict[str, int]:
    """Insert the desk in bulk; returns the rows per table."""
    engine = create_engine(url)
    counts = dict.fromkeys(TABLES, 0)
    try:
        for found in chunks(n):
            with engine.begin() as connection:
                for name, table in TABLES.items():
                    if found[name]:
                        connection.execute(insert(table), found[name])
                        counts[name] += len(found[name])
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))  # what autovacuum (or an operator) would do
    finally:
        engine.dispose()
    return counts


def report_runs(work: Path, config: Path, database: str) -> list[tuple[str, ChildRun]]:
    """`maildesk report` per period and format, best of REPEAT by wall time."""
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).parent.parent))
    base = [sys.executable, "-m", "maildesk", "--config", str(config), "report"]
    cases = []
    for label, (since, until) in (("month", MONTH), ("whole", WHOLE)):
        period = ["--since", since.isoformat(), "--until", until.isoformat()]
        cases += [(f"{label} text", period), (f"{label} json", [*period, "--json"])]
    cases.append(("whole html", [*period, "--html", str(work / "report.html")]))
    found = []
    for name, args in cases:
        runs = [
            run_child([*base, *args], env, work, f"{database}-{name.replace(' ', '-')}")
            for _ in range(REPEAT)
        ]
        best = min(runs, key=lambda r: r.seconds)
        found.append((name, best))
        print(
            f"  {name:11} {best.seconds:6.2f} s (cpu {best.cpu_seconds:.2f} s), "
            f"peak RSS {max(r.peak_rss_mib for r in runs):6.1f} MiB, "
            f"{len(best.stdout)} chars out, load {load()}",
            flush=True,
        )
    return found


def run(database: str, url: str, work: Path, n: int) -> list[tuple[str, ChildRun]]:
    print(f"== {database}, {n} tickets (load {load()}, {os.cpu_count()} cores) ==", flush=True)
    if database == "SQLite":
        engine = db.make_engine(url)
        db.upgrade(engine)
        engine.dispose()
    start = time.perf_counter()
    counts = populate(url, n)
    print(f"  setup {time.perf_counter() - start:.1f} s: {counts}", flush=True)
    config = work / f"{database}.toml"
    config.write_text(config_text(url), encoding="utf-8")
    return report_runs(work, config, database)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    args = parser.parse_args(argv)
    os.environ.setdefault("MAILDESK_SECRET", secrets.token_hex(16))
    work = Path(tempfile.mkdtemp(prefix=f"maildesk-report-{args.tickets}-"))
    try:
        found = {"SQLite": run("SQLite", f"sqlite:///{work / 'desk.db'}", work, args.tickets)}
        with postgres_cluster() as cluster:
            if cluster is not None:
                found["PostgreSQL"] = run("PostgreSQL", cluster.new_database(), work, args.tickets)
        print(f"\n{'database':10} {'run':11} {'wall s':>7} {'cpu s':>6} {'peak MiB':>9}")
        for database, runs in found.items():
            for name, r in runs:
                print(
                    f"{database:10} {name:11} {r.seconds:7.2f} {r.cpu_seconds:6.2f} "
                    f"{r.peak_rss_mib:9.1f}"
                )
        mib = TARGET_MIB * 1e6 / MIB
        print(f"targets: < {TARGET_SECONDS:.0f} s and < {TARGET_MIB} MB ({mib:.0f} MiB)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
