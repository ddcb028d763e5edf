"""Steps the tests share: one `poll --once` cycle, reading a ticket back, a held lock."""

import asyncio
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from email.message import Message as MailMessage
from pathlib import Path

from hypothesis import HealthCheck, settings
from sqlalchemy import make_url, text

from maildesk.app import App
from maildesk.intake import pipeline, poller
from maildesk.store import db
from maildesk.transport import outbox
from maildesk.views import records


def cycle(app: App) -> tuple[poller.PollResult, outbox.DrainResult]:
    """One `poll --once`: fetch and process, then send the outbox."""
    result = poller.poll_once(app)
    sent = asyncio.run(outbox.drain(app))
    return result, sent


def show(app: App, number: int) -> dict:
    """`tickets show N --json`, as data."""
    with db.transaction(app.sessions) as session:
        return records.ticket_detail(session, number)


def stats(app: App) -> dict:
    """`stats --json`, as data."""
    with db.transaction(app.sessions) as session:
        return records.stats(session)


def events(app: App, number: int, kind: str) -> list[str]:
    """The details of ticket `number`'s events of one kind, oldest first."""
    return [e["detail"] for e in show(app, number)["events"] if e["kind"] == kind]


@contextmanager
def write_lock(database: Path | str, table: str = "blobs") -> Iterator[None]:
    """Another writer holds the lock until the block ends: SQLite's write lock, or on
    PostgreSQL an exclusive lock on `table` (by default blobs, which intake writes first).
    """
    url = make_url(database if isinstance(database, str) else f"sqlite:///{database}")
    if url.drivername.startswith("sqlite"):
        holder = sqlite3.connect(url.database, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    engine = db.make_engine(url.render_as_string(hide_password=False))
    try:
        with engine.connect() as connection, connection.begin():
            connection.execute(text(f"LOCK TABLE {table} IN EXCLUSIVE MODE"))
            yield
    finally:
        engine.dispose()


def fuzz(examples: int) -> settings:
    """Hypothesis settings of the suite: derandomised, no example database, fixtures allowed."""
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


def count(database: str, sql: str, **params: object) -> int:
    """Read the daemon's database from outside, as an operator's script would."""
    engine = db.make_engine(database)
    try:
        with engine.connect() as connection:
            return connection.scalar(text(sql), params)
    finally:
        engine.dispose()


def migrated_sqlite(folder: Path) -> str:
    """The URL of a new SQLite file in `folder` at the newest migration, as `maildesk
    init` leaves it (without the command's start-up)."""
    url = f"sqlite:///{folder / 'desk.db'}"
    engine = db.make_engine(url)
    try:
        db.upgrade(engine)
    finally:
        engine.dispose()
    return url


def rows(database: str, sql: str, **params: object) -> list[tuple]:
    """Every row of a query on the daemon's database, read from outside like `count`."""
    engine = db.make_engine(database)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql), params)]
    finally:
        engine.dispose()


def desk_toml(assign: str = "round_robin", members: bool = True) -> str:
    """Agents Lin and Wang in team support (assigned by `assign`), lead Boss, team billing."""
    agents = (
        """
[[agents]]
email = "lin@desk.example"
name = "Lin"
team = "support"

[[agents]]
email = "wang@desk.example"
name = "Wang"
team = "support"
"""
        if members
        else ""
    )
    return (
        agents
        + f"""
[[agents]]
email = "boss@desk.example"
name = "Boss"
role = "lead"

[[teams]]
name = "support"
assign = "{assign}"
leads = ["boss@desk.example"]

[[teams]]
name = "billing"
address = "billing@desk.example"
assign = "none"
"""
    )


def waiting_on_a_lock(url: str) -> bool:
    """Some backend of this PostgreSQL database waits for a lock another transaction holds."""
    return bool(
        count(
            url,
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'",
        )
    )


def race(
    database_url: str, first: tuple[App, bytes, str], second: tuple[App, bytes, str]
) -> tuple[pipeline.Outcome, pipeline.Outcome]:
    """Two workers on one mail each (app, raw bytes, source), interleaved for real: the
    first is held open after its steps, before its commit, until the second waits on a
    lock it holds; then the first commits. Returns both outcomes."""
    stored, release = threading.Event(), threading.Event()
    outcomes: dict[str, pipeline.Outcome] = {}

    def hold(session, outcome) -> None:  # the first worker, after its steps, before commit
        stored.set()
        assert release.wait(30)

    def run(name: str, app: App, raw: bytes, source: str, **held) -> None:
        outcomes[name] = pipeline.process(app, raw, source, **held)

    workers = [
        threading.Thread(target=run, args=("first", *first), kwargs={"bookkeeping": hold}),
        threading.Thread(target=run, args=("second", *second)),
    ]
    workers[0].start()
    assert stored.wait(30)
    workers[1].start()
    deadline = time.monotonic() + 30
    while not waiting_on_a_lock(database_url):
        assert time.monotonic() < deadline, "the second worker never met the first's lock"
        time.sleep(0.01)
    release.set()
    for worker in workers:
        worker.join(30)
    return outcomes["first"], outcomes["second"]


def metric_series(exposition: bytes | str) -> dict[str, float]:
    """Prometheus text as {'name{a="1",b="2"}': value}, the labels sorted by name."""
    text = exposition.decode() if isinstance(exposition, bytes) else exposition
    found = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        series, _, value = line.rpartition(" ")
        name, _, labels = series.partition("{")
        pairs = sorted(labels.rstrip("}").split(",")) if labels else []
        found[name + ("{" + ",".join(pairs) + "}" if pairs else "")] = float(value)
    return found


def wait_until(predicate, timeout: float = 60.0) -> None:
    """Poll `predicate` until true; for what no event announces (a row, a log record)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.05)


def assert_each_mail_once(
    url: str, mails: Sequence[MailMessage], sent: Sequence[MailMessage]
) -> None:
    """Every mail of `mails` has one entry, none is quarantined, and `sent` holds one
    acknowledgement of each, none twice (what a fault test checks afterwards)."""
    entries = Counter(
        mid for (mid,) in rows(url, "SELECT message_id FROM messages WHERE direction = 'in'")
    )
    assert entries == Counter(m["Message-ID"] for m in mails), "one entry per mail"
    assert count(url, "SELECT count(*) FROM quarantine") == 0
    acks = Counter(m["In-Reply-To"] for m in sent)
    assert acks == Counter(m["Message-ID"] for m in mails), "one ack per mail, none twice"
