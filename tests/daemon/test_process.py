"""`maildesk run` as a process: IDLE wake-up on two servers, clean SIGTERM, SIGKILL mid-batch."""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from maildesk.intake.poller import ROUND
from tests.conftest import (
    PASSWORD,
    PYMAP_USER,
    SECRET,
    ImapServer,
    Mailbox,
    config_text,
    free_port,
    maildesk_in_process,
    make_mail,
    start_pymap,
)
from tests.support import count, write_lock

HANG = 120.0  # seconds a wait on an event may take before the test calls it a hang


class DaemonProcess(subprocess.Popen):
    """`maildesk run` (or `code` that ends in its main), its log read as it comes:
    copied to daemon.log beside the config, and waited on line by line."""

    def __init__(self, config: Path, code: str = "from maildesk.cli import main; main()") -> None:
        env = dict(os.environ, MAILDESK_SECRET=SECRET, MAILDESK_IMAP_PASSWORD=PASSWORD)
        super().__init__(
            [sys.executable, "-c", code, "--config", str(config), "run"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self.lines: list[str] = []
        self._logged = threading.Condition()
        self._ended = False
        self._reader = threading.Thread(target=self._read, args=(config.parent / "daemon.log",))
        self._reader.start()

    def _read(self, path: Path) -> None:
        with self.stderr, path.open("ab") as log:
            for line in self.stderr:
                log.write(line)
                log.flush()
                with self._logged:
                    self.lines.append(line.decode(errors="replace"))
                    self._logged.notify_all()
        with self._logged:
            self._ended = True
            self._logged.notify_all()

    def wait_for_log(self, text: str) -> None:
        """Until a line of the log holds `text`; fails if the daemon ends first."""
        with self._logged:
            self._logged.wait_for(
                lambda: self._ended or any(text in line for line in self.lines), HANG
            )
            if not any(text in line for line in self.lines):
                raise AssertionError(f"no {text!r} in the log:\n{''.join(self.lines)[-5000:]}")

    def wait(self, timeout: float | None = None) -> int:
        code = super().wait(timeout)
        self._reader.join()
        return code


def start_daemon(config: Path) -> DaemonProcess:
    """`maildesk run`, its log going to daemon.log beside the config."""
    return DaemonProcess(config)


def log_text(config: Path) -> str:
    return (config.parent / "daemon.log").read_text(errors="replace")


def prepare(tmp_path: Path, database: str, mailbox, smtp_sink, **imap: str) -> Path:
    """Config and initialised database; `imap` overrides [imap] settings."""
    text = config_text(database, mailbox.server.port, mailbox.user, smtp_sink.port)
    for key, value in imap.items():
        text = "\n".join(
            f"{key} = {value}" if line.startswith(f"{key} =") else line
            for line in text.splitlines()
        )
    config = tmp_path / "maildesk.toml"
    config.write_text(text)
    done = maildesk_in_process("init", config=config)
    assert done.returncode == 0, done.stderr
    return config


def stop(proc: subprocess.Popen) -> int:
    """SIGTERM; the daemon finishes the mail in hand, which a server gone silent can hold
    for up to imap.timeout (60 s) on a loaded machine."""
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(90)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGUSR1)  # the daemon writes its threads' stacks to its log
        time.sleep(1)
        proc.kill()
        proc.wait()
        log = Path(proc.args[4]).parent / "daemon.log"
        stacks = log.read_text(errors="replace")[-20000:]
        raise AssertionError(f"no stop in 90 s:\n{stacks}") from None


def test_idle_acks_each_new_mail_before_the_poll_interval_and_sigterm_stops_cleanly(
    tmp_path, database_url, any_mailbox, smtp_sink
):
    """With an hour's poll interval only IDLE brings mail in while the test waits.

    (The first mail may still come by the poll that the watcher's connect wakes;
    the others can only come by IDLE news.)
    """
    config = prepare(
        tmp_path, database_url, any_mailbox, smtp_sink, idle="true", poll_interval="3600"
    )
    subjects = [f"idle wake-up {i}" for i in range(1, 4)]
    proc = start_daemon(config)
    try:
        proc.wait_for_log("watching INBOX with IDLE")
        for count, subject in enumerate(subjects, 1):
            sender = f"c{count}@customer.example"
            any_mailbox.deliver(make_mail(sender=sender, subject=subject))
            smtp_sink.wait_for(count, HANG)
    finally:
        code = stop(proc)
    log = log_text(config)
    assert code == 0, log
    assert "IDLE connection lost" not in log, "news (or a folder race) taken for a lost connection"
    assert [m["Subject"] for m in smtp_sink.messages] == [
        f"[Ticket#{n}] {subject}" for n, subject in enumerate(subjects, 1)
    ]


# Two rounds of 50 (poller.ROUND): the kill lands after the first commit, before its
# move, with the second round untouched on the server; more rounds would add time, not
# another case.
MAILS = 2 * ROUND
# `maildesk run` that hangs once its first round is committed, before that round is
# moved on the server, and says so: the SIGKILL lands there, not wherever it happens to.
HANG_AFTER_FIRST_COMMIT = """
import sys, threading
from maildesk.cli import main
from maildesk.transport.inbox import Inbox

def mark_done(self, uids, folder):
    print(f"test: {len(uids)} mails committed, not moved", file=sys.stderr, flush=True)
    threading.Event().wait()

Inbox.mark_done = mark_done
main()
"""


def test_sigkill_mid_batch_then_restart_gives_exactly_one_entry_and_ack(
    tmp_path, database_url, mailbox, smtp_sink
):
    config = prepare(tmp_path, database_url, mailbox, smtp_sink)
    mails = [
        make_mail(sender=f"c{i}@customer.example", subject=f"mail {i}", body=f"body {i}")
        for i in range(MAILS)
    ]
    mailbox.deliver(*mails)

    def receipts() -> int:
        return count(database_url, "SELECT count(*) FROM receipts")

    proc = DaemonProcess(config, HANG_AFTER_FIRST_COMMIT)
    proc.wait_for_log("mails committed, not moved")
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    assert 0 < receipts() < MAILS, "the kill landed mid-batch"
    assert mailbox.count("INBOX") == MAILS, "between the commit and the move"

    proc = start_daemon(config)
    try:
        smtp_sink.wait_for(MAILS, HANG)
    finally:
        assert stop(proc) == 0

    incoming = "FROM messages WHERE direction = 'in'"
    assert receipts() == MAILS
    assert count(database_url, "SELECT count(*) FROM outbox WHERE status = 'pending'") == 0
    assert count(database_url, "SELECT count(*) FROM tickets") == MAILS
    assert count(database_url, f"SELECT count(*) {incoming}") == MAILS
    assert count(database_url, f"SELECT count(DISTINCT message_id) {incoming}") == MAILS
    replies = sorted(m["In-Reply-To"] for m in smtp_sink.messages)
    assert replies == sorted(m["Message-ID"] for m in mails), "exactly one ack per mail"
    assert mailbox.count("INBOX") == 0 and mailbox.count("Processed") == MAILS


def test_imap_server_restart_is_survived(tmp_path, database_url, smtp_sink):
    """The server goes away under IDLE and comes back (renumbered): the daemon carries on.

    The mail lands while the watcher is away (its retry waits at least 1 s) and
    the poll interval is long, so only the poll after the reconnect can take it.
    """
    port = free_port()
    server = start_pymap(port)
    box = Mailbox(ImapServer("pymap", port, PYMAP_USER), PYMAP_USER)
    config = prepare(tmp_path, database_url, box, smtp_sink, idle="true", poll_interval="120")
    proc = start_daemon(config)
    try:
        proc.wait_for_log("watching INBOX with IDLE")
        server.terminate()
        server.wait(10)
        proc.wait_for_log("IDLE connection lost")
        server = start_pymap(port)
        box.deliver(make_mail(subject="after the restart"))
        smtp_sink.wait_for(1, HANG)
        assert proc.poll() is None, "the daemon is still running"
    finally:
        code = stop(proc)
        server.terminate()
        server.wait(10)
    assert code == 0
    assert smtp_sink.messages[0]["Subject"] == "[Ticket#1] after the restart"


def test_database_lock_backs_off_and_the_mail_is_taken_afterwards(
    tmp_path, database_url, mailbox, smtp_sink
):
    """Another writer holds the lock past busy_timeout: no quarantine, a retry later."""
    config = prepare(tmp_path, database_url, mailbox, smtp_sink, busy_timeout="0.1")
    mailbox.deliver(make_mail(subject="during the lock"))
    with write_lock(database_url):
        proc = start_daemon(config)
        try:
            proc.wait_for_log("database unavailable")
            assert mailbox.count("INBOX") == 1, "the mail waits on the server"
        except BaseException:
            stop(proc)
            raise
    try:
        smtp_sink.wait_for(1, HANG)
    finally:
        code = stop(proc)
    assert code == 0, log_text(config)
    assert count(database_url, "SELECT count(*) FROM quarantine") == 0
    assert smtp_sink.messages[0]["Subject"] == "[Ticket#1] during the lock"
