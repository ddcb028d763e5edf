"""A full file system under the SQLite database is nobody's fault: the mail waits on the
server (`poll --once` exits 75), nothing is quarantined, and once space is freed the
running daemon takes it. A real tmpfs of 2 MiB, filled by a file; Dovecot for IMAP.
"""

import errno
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from maildesk.errors import DiskFull
from maildesk.intake import pipeline
from tests.conftest import maildesk_in_process, make_mail
from tests.daemon.test_process import HANG, DaemonProcess, stop
from tests.support import count


class Disk:
    """A small mounted file system: `fill` takes all its space with a file, `free` gives
    the space back."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.filler = root / "filler"

    def fill(self) -> None:
        with self.filler.open("wb", buffering=0) as filler:
            try:
                while True:
                    filler.write(bytes(4096))
            except OSError as full:
                assert full.errno == errno.ENOSPC, full

    def free(self) -> None:
        self.filler.unlink()


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Disk]:
    """A tmpfs of 2 MiB, mounted for the test (root only)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    root = tmp_path / "disk"
    root.mkdir()
    mount = ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(root)]
    done = subprocess.run(mount, capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {done.stderr.strip()}")
    try:
        yield Disk(root)
    finally:
        subprocess.run(["umount", "--lazy", str(root)], check=True)


@pytest.fixture
def database_url(disk: Disk, sqlite_template: Path) -> str:
    """This module's database: a migrated SQLite file on the small disk (make_app builds
    on it)."""
    shutil.copyfile(sqlite_template, disk.root / "desk.db")
    return f"sqlite:///{disk.root / 'desk.db'}"


def quarantined(database_url: str) -> int:
    return count(database_url, "SELECT count(*) FROM quarantine")


def test_poll_once_on_a_full_disk_exits_75_and_the_mail_waits_on_the_server(
    mailbox, smtp_sink, make_app, disk, database_url, tmp_path
):
    make_app(mailbox, smtp_sink)
    config = tmp_path / "maildesk.toml"
    disk.fill()
    mailbox.deliver(make_mail(subject="on a full disk", body="A large question. " * 5000))

    done = maildesk_in_process("poll", "--once", config=config)

    assert done.returncode == 75, done.stderr
    assert "database or disk is full" in done.stderr
    assert mailbox.count("INBOX") == 1 and mailbox.count("Quarantine") == 0
    disk.free()
    assert maildesk_in_process("poll", "--once", config=config).returncode == 0
    assert mailbox.count("Processed") == 1 and quarantined(database_url) == 0


def test_the_daemon_keeps_running_on_a_full_disk_and_takes_the_mail_once_space_is_freed(
    mailbox, smtp_sink, make_app, disk, database_url, tmp_path
):
    make_app(mailbox, smtp_sink)
    disk.fill()
    mailbox.deliver(make_mail(subject="while the disk is full"))
    daemon = DaemonProcess(tmp_path / "maildesk.toml")
    try:
        daemon.wait_for_log("failed (database unavailable: database or disk is full); next try")
        assert daemon.poll() is None, "still running"
        assert mailbox.count("INBOX") == 1, "the mail waits on the server"
        disk.free()
        smtp_sink.wait_for(1, HANG)
    finally:
        code = stop(daemon)
    assert code == 0
    assert "raised an exception" not in "".join(daemon.lines), "a poll job's failure unhandled"
    assert smtp_sink.messages[0]["Subject"] == "[Ticket#1] while the disk is full"
    assert mailbox.count("Processed") == 1 and quarantined(database_url) == 0


def test_a_file_system_out_of_space_is_a_temporary_failure_not_the_mails_fault():
    """Whatever write ran out of space (a blob, a file), the mail is not quarantined."""
    for error in (errno.ENOSPC, errno.EDQUOT):
        with pytest.raises(DiskFull, match="disk full"):
            pipeline.raise_unless_mails_fault(OSError(error, os.strerror(error)))
    pipeline.raise_unless_mails_fault(OSError(errno.EACCES, "a mail's own fault, say"))
