"""Scrape benchmark: what one GET /metrics and one GET /readyz cost on a large desk.

Why it exists: the database's figures of /metrics (outbox, tickets, SLA clocks
breached, quarantine, last polls) are read at every scrape, typically every
15 s from each Prometheus, and /readyz is probed as often, so each must stay
a small fraction of a second however large the desk grows (target: < 1 s for
a scrape of 100 000 tickets). It prints, on SQLite and on the suite's
throwaway PostgreSQL cluster (skipped with a note when initdb is missing):

  setup      N open P2 tickets with running clocks (sla_sweep.py's bulk load),
             1 % of the clocks breached, N/10 sent outbox mails and 100 pending,
             one mailbox and its last poll
  scrape     the whole /metrics text (Meter.exposition, the database's gauges
             read by the collector), best and median of 10
  readyz     Health.readiness (SELECT 1 and the last polls), best and median of 10

Nothing is asserted. How to run (repository root, `pip install -e '.[test,postgres]'`):

    python bench/scrape.py                  # N=100000
    python bench/scrape.py --tickets 10000
"""

import argparse
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sla_sweep import NOW, Plan, config_text, load, populate, postgres_cluster
from sqlalchemy import insert, update

sys.path.insert(0, str(Path(__file__).parent.parent))
from maildesk import config as config_module  # noqa: E402
from maildesk.app import App  # noqa: E402
from maildesk.store import db  # noqa: E402
from maildesk.store.deadline_tables import SlaClock  # noqa: E402
from maildesk.store.intake_tables import MailboxPoll  # noqa: E402
from maildesk.store.tables import OutboxMail  # noqa: E402
from maildesk.views.health import Health  # noqa: E402

# The mailbox whose last poll /readyz reads (never connected to).
IMAP = """
[imap]
host = "127.0.0.1"
username = "support@desk.example"
password_env = "MAILDESK_IMAP_PASSWORD"
"""
RUNS = 10
PENDING = 100
TARGET = 1.0


def add_outbox_and_breaches(app: App, n: int) -> None:
    """N/10 sent mails and PENDING pending ones, 1 % of the clocks breached, a last poll."""
    rows = [
        {
            "kind": "ack",
            "message_id": f"<bench.{i}@desk.example>",
            "sender": "support@desk.example",
            "raw": b"Subject: bench\r\n\r\nbench\r\n",
            "status": "sent" if i >= PENDING else "pending",
            "attempts": 1,
            "next_attempt_at": NOW,
            "created_at": NOW - timedelta(seconds=i),
        }
        for i in range(n // 10 + PENDING)
    ]
    with app.engine.begin() as connection:
        for start in range(0, len(rows), 5000):
            connection.execute(insert(OutboxMail.__table__), rows[start : start + 5000])
        connection.execute(
            update(SlaClock).where(SlaClock.ticket_id % 100 == 0).values(breached_at=NOW)
        )
        connection.execute(
            insert(MailboxPoll.__table__), [{"mailbox": "default", "polled_at": NOW}]
        )


def build_app(work: Path, url: str) -> App:
    path = work / "maildesk.toml"
    path.write_text(config_text(url) + IMAP, encoding="utf-8")
    return App.build(config_module.load(path))


def timings(call) -> list[float]:
    found = []
    for _ in range(RUNS):
        start = time.perf_counter()
        call()
        found.append(time.perf_counter() - start)
    return found


def run(database: str, url: str, work: Path, n: int) -> tuple[str, list[float], list[float]]:
    print(f"== {database}, {n} tickets (load {load()}, {os.cpu_count()} cores) ==", flush=True)
    app = build_app(work, url)
    try:
        if database == "SQLite":
            db.upgrade(app.engine)
        start = time.perf_counter()
        populate(app, n, Plan.of(app))
        add_outbox_and_breaches(app, n)
        print(f"  setup {time.perf_counter() - start:.1f} s", flush=True)
        health = Health(app)
        text = app.meter.exposition()[0].decode()
        if "maildesk_database_up 1.0" not in text:
            raise SystemExit("the scrape did not read the database")
        scrape = timings(app.meter.exposition)
        ready = timings(health.readiness)
        for name, found in (("scrape", scrape), ("readyz", ready)):
            print(
                f"  {name} best {1000 * min(found):.1f} ms, "
                f"median {1000 * statistics.median(found):.1f} ms",
                flush=True,
            )
        return database, scrape, ready
    finally:
        app.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    args = parser.parse_args(argv)
    os.environ.setdefault("MAILDESK_SECRET", secrets.token_hex(16))
    work = Path(tempfile.mkdtemp(prefix=f"maildesk-scrape-{args.tickets}-"))
    try:
        found = [run("SQLite", f"sqlite:///{work / 'desk.db'}", work, args.tickets)]
        with postgres_cluster() as cluster:
            if cluster is not None:
                found.append(run("PostgreSQL", cluster.new_database(), work, args.tickets))
        print(
            f"\n{'database':10} {'tickets':>8} {'scrape ms median':>17} {'readyz ms median':>17}"
        )
        for database, scrape, ready in found:
            print(
                f"{database:10} {args.tickets:8d} {1000 * statistics.median(scrape):17.1f} "
                f"{1000 * statistics.median(ready):17.1f}"
            )
        print(f"target: a scrape < {1000 * TARGET:.0f} ms")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
