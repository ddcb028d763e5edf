"""Backlog benchmark: how fast the daemon drains a full mailbox, alone and as several workers.

Why it exists: after downtime the daemon takes a backlog over IMAP, which must
not be much slower than `import` from a file of the same mails; and a desk
that outgrows one process runs several workers on PostgreSQL, which should
add throughput, not just safety. It prints, on the same generated mails:

  poll vs import   `maildesk poll --once` over the IMAP server against
                   `maildesk import` of the mbox (SQLite), per server
  workers          W `maildesk run` processes on one Dovecot mailbox until
                   every mail has its receipt: 1 on SQLite, 1 and 3 on PostgreSQL
  idle daemon      peak RSS of `maildesk run` (and its parse child) on an
                   empty mailbox

Nothing is asserted. Delivery into the folder is not timed. PostgreSQL is the
suite's own throwaway cluster (tests/postgres.py), Dovecot and pymap the
suite's and the demo's recipes (imap_servers.py).

How to run (repository root, after `bash .ci/run` installed everything):

    python bench/drain.py              # N=1000
    python bench/drain.py --n 2000 --skip-pymap
"""

import argparse
import mailbox
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from imap_tools import MailBoxUnencrypted
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent))
from harness import ChildRun, run_child, write_config  # noqa: E402
from imap_servers import imap_server, imap_toml  # noqa: E402
from mailgen import write_mbox  # noqa: E402

from maildesk.demo.servers import free_port  # noqa: E402
from maildesk.store import db  # noqa: E402
from tests import postgres  # noqa: E402

PASSWORD = "bench-password"  # noqa: S105 - a throwaway server's


def deliver(port: int, user: str, mbox: Path) -> int:
    """Append every mail of the mbox to the user's INBOX; how many."""
    box = mailbox.mbox(mbox, create=False)
    try:
        with MailBoxUnencrypted("127.0.0.1", port).login(user, PASSWORD) as imap:
            for key in box.iterkeys():
                imap.append(box.get_bytes(key), "INBOX", flag_set=())
        return len(box)
    finally:
        box.close()


def desk(work: Path, port: int, user: str, url: str | None = None, send: bool = True) -> list[str]:
    """The maildesk command line on a fresh desk in `work` (SQLite unless `url`).

    Without `send` the desk has no [smtp]: `poll --once` then does what
    `import` does (acknowledgements queued, not sent), so the two compare.
    """
    work.mkdir(parents=True, exist_ok=True)
    config = write_config(work, imap_toml(port, user, idle=False, poll_interval=0.5))
    text = config.read_text()
    if url:
        text = text.replace(f'url = "sqlite:///{work / "desk.db"}"', f'url = "{url}"')
    if not send:
        head, _, rest = text.partition("[smtp]")
        text = head + rest[rest.index("\n[") :]
    config.write_text(text)
    command = [sys.executable, "-m", "maildesk", "--config", str(config)]
    run_child([*command, "init"], ENV, work, "init")
    return command


def line(label: str, n: int, run: ChildRun) -> float:
    rate = n / run.seconds
    print(
        f"{label:28} {run.seconds:7.2f} s {rate:8.1f} msg/s  cpu {run.cpu_seconds:6.2f} s"
        f"  peak RSS {run.peak_rss_mib:6.1f} MiB"
    )
    return rate


def poll_against_import(server: str, n: int, mbox: Path, work: Path) -> None:
    user = f"{server}-poll@bench.test"
    with imap_server(server, work / server, user, PASSWORD) as port:
        deliver(port, user, mbox)
        imported = desk(work / f"{server}-import", port, user)
        polled = desk(work / f"{server}-poll", port, user, send=False)
        done = run_child([*imported, "import", str(mbox)], ENV, work, "import")
        import_rate = line("import (SQLite)", n, done)
        done = run_child([*polled, "poll", "--once"], ENV, work, "poll")
        poll_rate = line(f"poll --once ({server}, SQLite)", n, done)
    print(f"poll/import on {server}: {poll_rate / import_rate:.2f}x\n", flush=True)


def receipts(url: str) -> int:
    engine = db.make_engine(url)
    try:
        with engine.connect() as connection:
            return connection.scalar(text("SELECT count(*) FROM receipts"))
    finally:
        engine.dispose()


def workers(label: str, count: int, n: int, mbox: Path, work: Path, url: str | None) -> float:
    """W daemons on one freshly filled Dovecot mailbox, timed until every mail has a receipt."""
    user = f"w{count}-{secrets.token_hex(3)}@bench.test"
    with imap_server("dovecot", work / f"dovecot-{user}", user, PASSWORD) as port:
        deliver(port, user, mbox)
        folder = work / f"workers-{user}"
        command = desk(folder, port, user, url)
        url = url or f"sqlite:///{folder / 'desk.db'}"
        start, busy_before = time.perf_counter(), cpu_ticks()
        procs = [
            subprocess.Popen([*command, "run"], env=ENV, stderr=subprocess.DEVNULL)
            for _ in range(count)
        ]
        try:
            while receipts(url) < n:
                time.sleep(0.1)
            seconds = time.perf_counter() - start
            busy = busy_share(busy_before, cpu_ticks())
        finally:
            for proc in procs:
                proc.send_signal(signal.SIGTERM)
            for proc in procs:
                proc.wait(60)
    rate = n / seconds
    print(
        f"{label:28} {seconds:7.2f} s {rate:8.1f} msg/s  machine CPU busy {100 * busy:3.0f} %"
        "  (start-up included)",
        flush=True,
    )
    return rate


def cpu_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all cores, from /proc/stat: is the machine saturated?"""
    fields = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def busy_share(before: tuple[int, int], after: tuple[int, int]) -> float:
    return (after[0] - before[0]) / max(after[1] - before[1], 1)


def idle_rss(work: Path) -> None:
    """Peak RSS of an idle daemon and of its children, after it settled on an empty mailbox."""
    user = "idle@bench.test"
    with imap_server("dovecot", work / "dovecot-idle", user, PASSWORD) as port:
        command = desk(work / "idle", port, user)
        proc = subprocess.Popen([*command, "run"], env=ENV, stderr=subprocess.DEVNULL)
        try:
            time.sleep(10)
            tree = [proc.pid, *children(proc.pid)]
            peaks = {pid: vm_hwm_mib(pid) for pid in tree}
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(60)
    daemon = peaks.pop(proc.pid)
    rest = ", ".join(f"{mib:.1f}" for mib in peaks.values()) or "none"
    print(f"idle daemon: peak RSS {daemon:.1f} MiB; its children {rest} MiB\n")


def children(pid: int) -> list[int]:
    found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(c) for c in found] + [g for c in found for g in children(int(c))]


def vm_hwm_mib(pid: int) -> float:
    for row in Path(f"/proc/{pid}/status").read_text().splitlines():
        if row.startswith("VmHWM:"):
            return int(row.split()[1]) / 1024
    return 0.0


ENV = dict(os.environ, MAILDESK_SECRET=secrets.token_hex(32), MAILDESK_IMAP_PASSWORD=PASSWORD)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--skip-pymap", action="store_true", help="poll on Dovecot only")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix=f"maildesk-drain-{args.n}-"))
    cluster = postgres.start(free_port())
    try:
        mbox = work / "mails.mbox"
        write_mbox(mbox, args.n, args.seed)
        print(f"== N={args.n} generated mails ==")
        for server in ("dovecot",) if args.skip_pymap else ("dovecot", "pymap"):
            poll_against_import(server, args.n, mbox, work)
        one_sqlite = workers("1 worker, SQLite", 1, args.n, mbox, work, None)
        one_pg = workers("1 worker, PostgreSQL", 1, args.n, mbox, work, cluster.new_database())
        three_pg = workers("3 workers, PostgreSQL", 3, args.n, mbox, work, cluster.new_database())
        print(
            f"PostgreSQL 1 worker / SQLite: {one_pg / one_sqlite:.2f}x; "
            f"3 workers / 1 worker on PostgreSQL: {three_pg / one_pg:.2f}x\n"
        )
        idle_rss(work)
    finally:
        postgres.stop(cluster)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
