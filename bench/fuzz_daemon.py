"""Fuzzed mail through the running daemon: thousands of broken mails, none lost.

Why it exists: tests/intake/test_fuzz_intake.py proves `pipeline.process` keeps
or quarantines every mutated mail in-process; this proves the same of
`maildesk run` as a process, with a real IMAP server between, over a run long
enough for leaks and slow failures to show. It appends N seeded mutations of
the corpus (tests/mutate.py: each its own Message-ID, then truncated, bytes
flipped or inserted, lines dropped) into a real mailbox while the daemon
polls it, waits until every appended mail has a receipt, and prints mails in,
refused by the server (its APPEND failed: not ours to count), stored,
quarantined, duplicates, lost (appended without a receipt, or left in INBOX),
the rate, and the daemon's RSS (its own and with its parse child) at start and
end. It asserts nothing; a daemon that died or a mail lost shows in the figures.

How to run (repository root, `pip install -e '.[test,demo]'`, Dovecot installed):

    python bench/fuzz_daemon.py                   # N=10000 on Dovecot
    python bench/fuzz_daemon.py --n 500 --server pymap --seed 7
"""

import argparse
import os
import secrets
import shutil
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from aiosmtpd.controller import Controller
from imap_tools import MailBoxUnencrypted

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent))
from ack_latency import PASSWORD, USER, start_daemon, wait_for_log  # noqa: E402
from harness import write_config  # noqa: E402 - the bench desk
from imap_servers import SERVERS, imap_server, imap_toml  # noqa: E402

from maildesk.demo.servers import free_port  # noqa: E402
from tests.mutate import append_each, seeded_mutations  # noqa: E402

STALL = 120.0  # seconds without a new receipt before the run counts the rest as lost


class CountingSink:
    """aiosmtpd handler: takes every mail the outbox sends, counting them."""

    def __init__(self) -> None:
        self.taken = 0

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd hook
        self.taken += 1
        return "250 OK"


def rss_mib(pid: int) -> tuple[float, float]:
    """(the process's RSS, with its children's) in MiB, from /proc (a child started by
    any of its threads: the parse child is)."""
    tasks = Path(f"/proc/{pid}/task").iterdir()
    children = [c for task in tasks for c in (task / "children").read_text().split()]
    sizes = [_vm_rss_kib(p) for p in [str(pid), *children]]
    return sizes[0] / 1024, sum(sizes) / 1024


def _vm_rss_kib(pid: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def receipts(database: Path) -> Counter:
    """Receipts by outcome: the daemon writes one with each mail it handled."""
    if not database.exists():
        return Counter()
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
        rows = connection.execute("SELECT outcome, count(*) FROM receipts GROUP BY outcome")
        return Counter(dict(rows.fetchall()))


def deliver(port: int, n: int, seed: int) -> tuple[int, int]:
    """APPEND n mutations; (appended, refused by the server)."""
    with MailBoxUnencrypted("127.0.0.1", port).login(USER, PASSWORD) as box:
        return append_each(box, seeded_mutations(n, seed))


def wait_for_receipts(database: Path, appended: int) -> Counter:
    """Until every appended mail has its receipt, or none came for STALL seconds."""
    last, changed = -1, time.monotonic()
    while True:
        outcomes = receipts(database)
        handled = sum(outcomes.values())
        if handled >= appended or time.monotonic() - changed > STALL:
            return outcomes
        if handled != last:
            last, changed = handled, time.monotonic()
        time.sleep(0.2)


def folder_counts(port: int) -> dict[str, int]:
    with MailBoxUnencrypted("127.0.0.1", port).login(USER, PASSWORD) as box:
        return {
            folder: box.folder.status(folder, ["MESSAGES"])["MESSAGES"]
            if box.folder.exists(folder)
            else 0
            for folder in ("INBOX", "Processed", "Quarantine")
        }


def run(server: str, n: int, seed: int) -> None:
    work = Path(tempfile.mkdtemp(prefix=f"maildesk-fuzz-{server}-"))
    sink = CountingSink()
    smtpd = Controller(sink, hostname="127.0.0.1", port=free_port())
    smtpd.start()
    env = dict(os.environ, MAILDESK_SECRET=secrets.token_hex(32), MAILDESK_IMAP_PASSWORD=PASSWORD)
    try:
        with imap_server(server, work, USER, PASSWORD) as port:
            imap = imap_toml(port, USER, idle=False, poll_interval=0.5)
            config = write_config(work, imap, smtp_port=smtpd.port)
            daemon = start_daemon(config, env)
            try:
                wait_for_log(config, "maildesk running")
                start_rss = rss_mib(daemon.pid)
                started = time.monotonic()
                appended, refused = deliver(port, n, seed)
                delivered = time.monotonic() - started
                outcomes = wait_for_receipts(work / "desk.db", appended)
                seconds = time.monotonic() - started
                alive = daemon.poll() is None
                end_rss = rss_mib(daemon.pid) if alive else (0.0, 0.0)
            finally:
                daemon.terminate()
                code = daemon.wait(60)
            folders = folder_counts(port)
    finally:
        smtpd.stop()
    handled = sum(outcomes.values())
    print(f"server {server}, seed {seed}, N={n}")
    print(f"  mails in        {appended} (refused by the server's APPEND: {refused})")
    print(f"  stored          {outcomes['stored']}")
    print(f"  quarantined     {outcomes['quarantined']}")
    print(f"  duplicates      {outcomes['duplicate']}")
    print(f"  lost            {appended - handled} (left in INBOX: {folders['INBOX']})")
    print(
        f"  folders         Processed {folders['Processed']}, Quarantine {folders['Quarantine']}"
    )
    print(
        f"  rate            {handled / seconds:.1f} mails/s ({seconds:.1f} s from the first"
        f" APPEND to the last receipt; the APPENDs alone {delivered:.1f} s)"
    )
    print(f"  acks sent       {sink.taken} (by the SIGTERM)")
    print(f"  daemon RSS      start {start_rss[0]:.1f} MiB (with parse child {start_rss[1]:.1f})")
    print(f"                  end   {end_rss[0]:.1f} MiB (with parse child {end_rss[1]:.1f})")
    print(f"  daemon          {'running to the end' if alive else 'DIED'}, SIGTERM exit {code}")
    shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10_000, help="mails (default 10000)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the mutations (default 1)")
    parser.add_argument("--server", choices=SERVERS, default="dovecot")
    args = parser.parse_args(argv)
    run(args.server, args.n, args.seed)


if __name__ == "__main__":
    main()
