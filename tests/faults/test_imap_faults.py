"""The IMAP server killed while a FETCH of many mails is under way, then restarted:
`maildesk run` backs off, comes back, and every mail gets one entry and one ack.

Dovecot is the test's own process (its mail is on disk, so a restart keeps it);
the daemon reaches it through a loopback relay that watches the server's words,
so the SIGKILL lands while a FETCH's bodies are on the wire, at a seeded mail.
"""

import contextlib
import os
import random
import shutil
import signal
import socket
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import (
    PASSWORD,
    ImapServer,
    Mailbox,
    _find_dovecot,
    config_text,
    free_port,
    make_mail,
    relaunch_dovecot,
    start_dovecot,
)
from tests.daemon.test_process import HANG, start_daemon, stop
from tests.support import assert_each_mail_once, migrated_sqlite

MAILS = 80  # two rounds of the poller's 50: the kill lands in either
SEED = 22
BODY = "The export fails again.\n" * 200  # 5 kB: the FETCH of a round takes a while


class FetchTap:
    """A loopback relay to the IMAP server that runs `strike` once the server has begun
    sending the `nth` mail body of a FETCH (its `BODY[] {size}` announcement)."""

    def __init__(self, server_port: int, nth: int, strike: Callable[[], None]) -> None:
        self.server_port, self.nth, self.strike = server_port, nth, strike
        self.seen = 0
        self.struck = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return  # closed
            try:
                server = socket.create_connection(("127.0.0.1", self.server_port), 5)
            except OSError:  # the server is down: so is the connection
                client.close()
                continue
            for source, sink, watched in ((client, server, False), (server, client, True)):
                threading.Thread(target=self._relay, args=(source, sink, watched)).start()

    def _relay(self, source: socket.socket, sink: socket.socket, watched: bool) -> None:
        try:
            while data := source.recv(65536):
                if watched and not self.struck.is_set():
                    self.seen += data.count(b"BODY[] {")
                    if self.seen >= self.nth:
                        self.struck.set()
                        self.strike()
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)
                end.close()

    def close(self) -> None:
        self.listener.close()


def descendants(pid: int) -> list[int]:
    """`pid` and every process below it, read from /proc before any is killed."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        found.append(todo.pop())
        todo += parents.get(found[-1], [])
    return found


def kill_tree(proc: subprocess.Popen) -> None:
    """SIGKILL the server and the processes it forked (Dovecot's imap serves the FETCH)."""
    for pid in descendants(proc.pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    proc.wait(10)


def test_imap_server_killed_mid_fetch_and_restarted_loses_and_doubles_nothing(tmp_path, smtp_sink):
    binary = _find_dovecot()
    if binary is None:
        pytest.skip("Dovecot not installed (apt-get install dovecot-imapd)")
    dovecot_port = free_port()
    server, folder = start_dovecot(binary, dovecot_port, PASSWORD)
    tap = None
    try:
        box = Mailbox(ImapServer("dovecot", dovecot_port), "support@example.test")
        mails = [
            make_mail(sender=f"c{i}@customer.example", subject=f"export {i}", body=BODY)
            for i in range(MAILS)
        ]
        box.deliver(*mails)
        nth = random.Random(SEED).randint(2, MAILS - 1)
        killed = server
        tap = FetchTap(dovecot_port, nth, lambda: kill_tree(killed))
        url = migrated_sqlite(tmp_path)
        config = tmp_path / "maildesk.toml"
        config.write_text(config_text(url, tap.port, box.user, smtp_sink.port))
        proc = start_daemon(config)
        try:
            assert tap.struck.wait(HANG), "no FETCH reached its nth body"
            proc.wait_for_log("poll of default failed")
            server = relaunch_dovecot(binary, folder, dovecot_port)
            smtp_sink.wait_for(MAILS, HANG)
            assert proc.poll() is None, "the daemon rode it out"
        finally:
            assert stop(proc) == 0
        assert box.count("INBOX") == 0 and box.count("Processed") == MAILS
    finally:
        if tap is not None:
            tap.close()
        server.terminate()
        server.wait(15)
        shutil.rmtree(folder, ignore_errors=True)

    assert_each_mail_once(url, mails, smtp_sink.messages)
