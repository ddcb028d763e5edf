"""`maildesk run` as a process: IDLE wake-up on two servers, clean SIGTERM, SIGKILL mid-batch."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest

from tests.conftest import (
    PASSWORD,
    PYMAP_USER,
    SECRET,
    ImapServer,
    Mailbox,
    config_text,
    free_port,
    make_mail,
    start_pymap,
)

ACK_DEADLINE = 5.0  # seconds from delivery to the ack at the sink, IDLE on


def start_daemon(config: Path) -> subprocess.Popen:
    """`maildesk run`, its log going to daemon.log beside the config."""
    env = dict(os.environ, MAILDESK_SECRET=SECRET, MAILDESK_IMAP_PASSWORD=PASSWORD)
    with (config.parent / "daemon.log").open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "maildesk", "--config", str(config), "run"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )


def log_text(config: Path) -> str:
    return (config.parent / "daemon.log").read_text(errors="replace")


def query(db_path: Path, sql: str) -> int:
    """Read the daemon's database from outside, as an operator's script would."""
    with closing(sqlite3.connect(db_path, timeout=30)) as connection:
        return connection.execute(sql).fetchone()[0]


def wait_until(predicate, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.05)


def prepare(tmp_path: Path, mailbox, smtp_sink, **imap: str) -> tuple[Path, Path]:
    """Config and initialised database; `imap` overrides [imap] settings."""
    db_path = tmp_path / "desk.db"
    text = config_text(db_path, mailbox.server.port, mailbox.user, smtp_sink.port)
    for key, value in imap.items():
        text = "\n".join(
            f"{key} = {value}" if line.startswith(f"{key} =") else line
            for line in text.splitlines()
        )
    config = tmp_path / "maildesk.toml"
    config.write_text(text)
    subprocess.run(
        [sys.executable, "-m", "maildesk", "--config", str(config), "init"],
        env=dict(os.environ, MAILDESK_SECRET=SECRET),
        check=True,
        capture_output=True,
    )
    return config, db_path


def stop(proc: subprocess.Popen) -> int:
    proc.send_signal(signal.SIGTERM)
    return proc.wait(30)


@pytest.fixture(params=["dovecot", "pymap_server"])
def any_mailbox(request) -> Mailbox:
    server = request.getfixturevalue(request.param)
    box = Mailbox(server, server.new_user())
    with box.connect() as client:  # pymap has one shared user: start empty
        for folder in client.folder.list():
            client.folder.set(folder.name)
            client.delete(client.uids())
    return box


def test_idle_acks_each_new_mail_within_seconds_and_sigterm_stops_cleanly(
    tmp_path, any_mailbox, smtp_sink
):
    """With a 120 s poll interval only IDLE brings these in before the deadline."""
    config, _ = prepare(tmp_path, any_mailbox, smtp_sink, idle="true", poll_interval="120")
    subjects = [f"idle wake-up {i}" for i in range(1, 4)]
    proc = start_daemon(config)
    try:
        wait_until(lambda: "watching INBOX with IDLE" in log_text(config), 30)
        for count, subject in enumerate(subjects, 1):
            sender = f"c{count}@customer.example"
            any_mailbox.deliver(make_mail(sender=sender, subject=subject))
            wait_until(lambda count=count: len(smtp_sink.received) == count, ACK_DEADLINE)
    finally:
        code = stop(proc)
    log = log_text(config)
    assert code == 0, log
    idling = log.split("watching INBOX with IDLE", 1)[1]  # start-up may race (folder creation)
    assert "IDLE connection lost" not in idling, "news was taken for a lost connection"
    assert [m["Subject"] for m in smtp_sink.messages] == [
        f"[Ticket#{n}] {subject}" for n, subject in enumerate(subjects, 1)
    ]


def test_sigkill_mid_batch_then_restart_gives_exactly_one_entry_and_ack(
    tmp_path, mailbox, smtp_sink
):
    config, db_path = prepare(tmp_path, mailbox, smtp_sink)
    mails = [
        make_mail(sender=f"c{i}@customer.example", subject=f"mail {i}", body=f"body {i}")
        for i in range(60)
    ]
    mailbox.deliver(*mails)

    proc = start_daemon(config)
    wait_until(lambda: db_path.exists() and query(db_path, "select count(*) from receipts") >= 5)
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    handled_before = query(db_path, "select count(*) from receipts")
    assert handled_before < 60, "the kill landed mid-batch"

    proc = start_daemon(config)
    try:
        wait_until(
            lambda: (
                query(db_path, "select count(*) from receipts") >= 60
                and query(db_path, "select count(*) from outbox where status='pending'") == 0
                and len(smtp_sink.received) >= 60
            )
        )
    finally:
        assert stop(proc) == 0

    assert query(db_path, "select count(*) from tickets") == 60
    assert query(db_path, "select count(*) from messages where direction='in'") == 60
    assert (
        query(db_path, "select count(distinct message_id) from messages where direction='in'")
        == 60
    )
    replies = sorted(m["In-Reply-To"] for m in smtp_sink.messages)
    assert replies == sorted(m["Message-ID"] for m in mails), "exactly one ack per mail"
    assert mailbox.count("INBOX") == 0 and mailbox.count("Processed") == 60


def test_imap_server_restart_is_survived(tmp_path, smtp_sink):
    """The server goes away under IDLE and comes back (renumbered): the daemon carries on.

    The mail lands while the watcher is away (its retry waits at least 1 s) and
    the poll interval is long, so only the poll after the reconnect can take it.
    """
    port = free_port()
    server = start_pymap(port)
    box = Mailbox(ImapServer("pymap", port, PYMAP_USER), PYMAP_USER)
    config, _ = prepare(tmp_path, box, smtp_sink, idle="true", poll_interval="120")
    proc = start_daemon(config)
    try:
        wait_until(lambda: "watching INBOX with IDLE" in log_text(config), 30)
        server.terminate()
        server.wait(10)
        wait_until(lambda: "IDLE connection lost" in log_text(config), 30)
        server = start_pymap(port)
        box.deliver(make_mail(subject="after the restart"))
        wait_until(lambda: len(smtp_sink.received) == 1, 30)
        assert proc.poll() is None, "the daemon is still running"
    finally:
        code = stop(proc)
        server.terminate()
        server.wait(10)
    assert code == 0
    assert smtp_sink.messages[0]["Subject"] == "[Ticket#1] after the restart"


def test_database_lock_backs_off_and_the_mail_is_taken_afterwards(tmp_path, mailbox, smtp_sink):
    """Another writer holds SQLite's lock past busy_timeout: no quarantine, a retry later."""
    config, db_path = prepare(tmp_path, mailbox, smtp_sink, busy_timeout="0.1")
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    mailbox.deliver(make_mail(subject="during the lock"))
    proc = start_daemon(config)
    try:
        wait_until(lambda: "database unavailable" in log_text(config), 30)
        assert mailbox.count("INBOX") == 1, "the mail waits on the server"
        holder.execute("ROLLBACK")
        wait_until(lambda: len(smtp_sink.received) == 1, 60)
    finally:
        holder.close()
        code = stop(proc)
    assert code == 0, log_text(config)
    assert query(db_path, "select count(*) from quarantine") == 0
    assert smtp_sink.messages[0]["Subject"] == "[Ticket#1] during the lock"
