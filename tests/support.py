"""Steps the tests share: one `poll --once` cycle, reading a ticket back, a held lock."""

import asyncio
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hypothesis import HealthCheck, settings

from maildesk import views
from maildesk.app import App
from maildesk.intake import poller
from maildesk.store import db
from maildesk.transport import outbox


def cycle(app: App) -> tuple[poller.PollResult, outbox.DrainResult]:
    """One `poll --once`: fetch and process, then send the outbox."""
    result = poller.poll_once(app)
    sent = asyncio.run(outbox.drain(app))
    return result, sent


def show(app: App, number: int) -> dict:
    """`tickets show N --json`, as data."""
    with db.transaction(app.sessions) as session:
        return views.ticket_detail(session, number)


def stats(app: App) -> dict:
    """`stats --json`, as data."""
    with db.transaction(app.sessions) as session:
        return views.stats(session)


def events(app: App, number: int, kind: str) -> list[str]:
    """The details of ticket `number`'s events of one kind, oldest first."""
    return [e["detail"] for e in show(app, number)["events"] if e["kind"] == kind]


@contextmanager
def write_lock(path: Path) -> Iterator[None]:
    """Another process's writer: holds SQLite's write lock until the block ends."""
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def fuzz(examples: int) -> settings:
    """Hypothesis settings of the suite: derandomised, no example database, fixtures allowed."""
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
