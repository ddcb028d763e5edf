"""A locked or lost database is not the mail's fault: it waits on the server, nothing is
quarantined, and the next cycle takes it. Real SQLite files, a real lock held by
another connection, Dovecot for IMAP.
"""

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError

from maildesk import db, intake, poller
from maildesk.errors import DatabaseUnavailable
from tests.conftest import maildesk_cli, make_mail
from tests.test_end_to_end import cycle, show, stats


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


def test_locked_database_leaves_the_mail_on_the_server_until_the_next_cycle(
    mailbox, smtp_sink, make_app, tmp_path
):
    app = make_app(mailbox, smtp_sink, busy_timeout=0.1)
    mailbox.deliver(make_mail(subject="sent during a lock"))
    with write_lock(tmp_path / "desk.db"), pytest.raises(DatabaseUnavailable, match="locked"):
        poller.poll_once(app)
    assert mailbox.count("INBOX") == 1 and mailbox.count("Quarantine") == 0
    assert stats(app)["quarantined"] == 0 and stats(app)["tickets"] == 0

    cycle(app)

    assert show(app, 1)["subject"] == "sent during a lock"
    assert len(smtp_sink.received) == 1, "the acknowledgement goes out once"
    assert mailbox.count("INBOX") == 0 and mailbox.count("Processed") == 1


def test_import_during_a_lock_stores_nothing_and_can_run_again(make_app, tmp_path):
    app = make_app(busy_timeout=0.1)
    raw = make_mail(subject="imported during a lock").as_bytes()
    with write_lock(tmp_path / "desk.db"), pytest.raises(DatabaseUnavailable):
        intake.process_batch(app, [intake.Pending(raw, "import:x")])
    assert stats(app)["quarantined"] == 0
    assert intake.process_batch(app, [intake.Pending(raw, "import:x")]) == [
        intake.Outcome.STORED
    ]


def test_poll_once_exits_75_while_the_database_stays_locked(mailbox, make_app, tmp_path):
    make_app(mailbox, busy_timeout=0.1)
    mailbox.deliver(make_mail(subject="waits"))
    with write_lock(tmp_path / "desk.db"):
        done = maildesk_cli("poll", "--once", config=tmp_path / "maildesk.toml")
    assert done.returncode == 75, done.stderr
    assert "database unavailable" in done.stderr and "locked" in done.stderr
    assert mailbox.count("INBOX") == 1 and mailbox.count("Quarantine") == 0


def sqlite_error(path: Path, statement: str) -> Exception:
    engine = db.make_engine(f"sqlite:///{path}", busy_timeout=0.05)
    try:
        with engine.begin() as connection:
            connection.execute(text(statement))
    except Exception as exc:  # noqa: BLE001 - the error is what the test looks at
        return exc
    finally:
        engine.dispose()
    raise AssertionError(f"{statement} did not fail")


def test_only_lock_and_connection_errors_count_as_transient(tmp_path):
    engine = db.make_engine(f"sqlite:///{tmp_path / 'x.db'}", busy_timeout=0.05)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
        connection.execute(text("INSERT INTO t VALUES (1)"))
    engine.dispose()
    with write_lock(tmp_path / "x.db"):
        locked = sqlite_error(tmp_path / "x.db", "INSERT INTO t VALUES (2)")
    duplicate = sqlite_error(tmp_path / "x.db", "INSERT INTO t VALUES (1)")
    missing = sqlite_error(tmp_path / "x.db", "SELECT * FROM nowhere")
    assert isinstance(locked, OperationalError) and db.is_transient(locked)
    assert isinstance(duplicate, IntegrityError) and not db.is_transient(duplicate)
    assert isinstance(missing, OperationalError) and not db.is_transient(missing)
    assert not db.is_transient(ValueError("a broken mail"))
