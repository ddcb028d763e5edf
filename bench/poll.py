"""Poll benchmark: one `poll_once` over IMAP, on the same generated mail as ingest.py.

Why it exists: the daemon takes mail from an IMAP folder, each message in its
own transaction and moved on the server only after its commit, which costs
more than `import` from a file. After downtime a backlog has to drain; this
prints how fast. The IMAP server is pymap (the demo's embedded server, pure
Python) on loopback, so the figure includes that server's own time, which is
printed too; a production server such as Dovecot is faster. It asserts nothing.

How to run (repository root, `pip install -e '.[test,demo]'`):

    python bench/poll.py                 # N=500
    python bench/poll.py --n 500 --n 2000

Delivery into the folder is not timed; `poll_once` runs in this process
(the outbox is not drained), with the time of the pymap process read from
/proc before and after.
"""

import argparse
import mailbox
import os
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path

from imap_tools import MailBoxUnencrypted

sys.path.insert(0, str(Path(__file__).parent))
from harness import MIB, write_config  # noqa: E402 - the desk of ingest.py
from mailgen import write_mbox  # noqa: E402 - and its generated mail

from maildesk import config, poller  # noqa: E402
from maildesk.app import App  # noqa: E402
from maildesk.demo import free_port, start_pymap  # noqa: E402
from maildesk.store import db

USER, PASSWORD = "support@bench.test", "bench-password"
IMAP = """
[imap]
host = "127.0.0.1"
port = {port}
security = "none"
username = "{user}"
password_env = "MAILDESK_IMAP_PASSWORD"
idle = false
"""


def server_cpu_seconds(pid: int) -> float:
    """User + system time of a process, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def deliver(port: int, mbox: Path) -> int:
    """Append every mail of the mbox to the INBOX; how many."""
    box = mailbox.mbox(mbox, create=False)
    try:
        with MailBoxUnencrypted("127.0.0.1", port).login(USER, PASSWORD) as imap:
            for key in box.iterkeys():
                imap.append(box.get_bytes(key), "INBOX", flag_set=())
        return len(box)
    finally:
        box.close()


def bench(n: int, seed: int) -> None:
    """Deliver N generated mails, time one poll_once on them, print the figures."""
    work = Path(tempfile.mkdtemp(prefix=f"maildesk-poll-{n}-"))
    port = free_port()
    server = start_pymap(port, USER, PASSWORD)
    try:
        mix = write_mbox(work / "mails.mbox", n, seed)
        delivered = deliver(port, work / "mails.mbox")
        os.environ.update(MAILDESK_SECRET=secrets.token_hex(32), MAILDESK_IMAP_PASSWORD=PASSWORD)
        app = App.build(config.load(write_config(work, IMAP.format(port=port, user=USER))))
        db.upgrade(app.engine)
        server_before, start = server_cpu_seconds(server.pid), time.perf_counter()
        cpu_before = time.process_time()
        result = poller.poll_once(app)
        seconds = time.perf_counter() - start
        cpu = time.process_time() - cpu_before
        server_cpu = server_cpu_seconds(server.pid) - server_before
        app.close()
    finally:
        server.terminate()
        server.wait(10)
        shutil.rmtree(work, ignore_errors=True)
    print(f"== N={n}: {delivered} mails, {mix['bytes'] / MIB:.1f} MiB, in INBOX ==")
    print("outcomes: " + ", ".join(f"{count} {name}" for name, count in result.outcomes.items()))
    print(
        f"poll_once {seconds:8.2f} s  {result.handled / seconds:8.1f} msg/s  "
        f"{1000 * seconds / result.handled:6.2f} ms/mail  maildesk cpu {cpu:6.2f} s  "
        f"pymap cpu {server_cpu:6.2f} s\n",
        flush=True,
    )


def main(argv: list[str] | None = None) -> None:
    """One bench per --n."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", action="append", type=int, metavar="N", help="default 500")
    parser.add_argument("--seed", type=int, default=20261123, help="generator seed")
    args = parser.parse_args(argv)
    for n in args.n or [500]:
        bench(n, args.seed)


if __name__ == "__main__":
    main()
