"""Acknowledgement latency: a mail lands in the folder, how soon is its ack sent?

Why it exists: with IDLE on, a customer should have the acknowledgement within
seconds while the poll interval stays long (120 s here), on any server. Issue
#10 found about 25 s on pymap, where the IDLE watcher took news for a lost
connection. This runs `maildesk run` as a process against pymap and Dovecot on
loopback and an aiosmtpd sink, delivers N mails one at a time (the next once
the previous one's ack is in). It prints median, mean, p90, max and how many
took over 2 s, from the end of the APPEND to the ack's arrival at the sink.
It asserts nothing.

How to run (repository root, `pip install -e '.[test,demo]'`, Dovecot installed):

    python bench/ack_latency.py                       # N=20 on pymap and Dovecot
    python bench/ack_latency.py --n 50 --server pymap
"""

import argparse
import email
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from email import policy
from pathlib import Path

from aiosmtpd.controller import Controller
from imap_tools import MailBoxUnencrypted

sys.path.insert(0, str(Path(__file__).parent))
from harness import write_config  # noqa: E402 - the bench desk
from imap_servers import SERVERS, imap_server, imap_toml  # noqa: E402

from maildesk.demo.mails import customer_mail  # noqa: E402
from maildesk.demo.servers import free_port  # noqa: E402

USER, PASSWORD = "support@bench.test", "bench-password"
ACK_DEADLINE = 150.0  # past one poll interval: a missed wake-up shows as ~120 s, not a hang


class AckSink:
    """aiosmtpd handler: when each ack arrived, by the Message-ID it answers."""

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}
        self.changed = threading.Condition()

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd hook
        now = time.monotonic()
        answers = email.message_from_bytes(envelope.content, policy=policy.default)["In-Reply-To"]
        with self.changed:
            self.arrived[str(answers)] = now
            self.changed.notify_all()
        return "250 OK"

    def wait(self, message_id: str, timeout: float) -> float | None:
        """Arrival time of the ack to `message_id`; None if none came within `timeout` s."""
        with self.changed:
            self.changed.wait_for(lambda: message_id in self.arrived, timeout)
            return self.arrived.get(message_id)


def start_daemon(config: Path, env: dict[str, str]) -> subprocess.Popen:
    """`maildesk init`, then `maildesk run` with its log in daemon.log beside the config."""
    base = [sys.executable, "-m", "maildesk", "--config", str(config)]
    subprocess.run([*base, "init"], env=env, check=True, capture_output=True)
    with (config.parent / "daemon.log").open("wb") as log:
        return subprocess.Popen([*base, "run"], env=env, stdout=subprocess.DEVNULL, stderr=log)


def wait_for_log(config: Path, text: str, timeout: float = 30.0) -> None:
    log = config.parent / "daemon.log"
    deadline = time.monotonic() + timeout
    while text not in log.read_text(errors="replace"):
        if time.monotonic() > deadline:
            raise SystemExit(f"no {text!r} in the daemon's log:\n{log.read_text()[-2000:]}")
        time.sleep(0.05)


def measure(server: str, n: int) -> list[float]:
    """Seconds from APPEND done to ack received, for N mails delivered one by one."""
    work = Path(tempfile.mkdtemp(prefix=f"maildesk-ack-{server}-"))
    sink = AckSink()
    smtpd = Controller(sink, hostname="127.0.0.1", port=free_port())
    smtpd.start()
    env = dict(os.environ, MAILDESK_SECRET=secrets.token_hex(32), MAILDESK_IMAP_PASSWORD=PASSWORD)
    try:
        with imap_server(server, work, USER, PASSWORD) as port:
            imap = imap_toml(port, USER, idle=True, poll_interval=120)
            config = write_config(work, imap, smtp_port=smtpd.port)
            daemon = start_daemon(config, env)
            try:
                wait_for_log(config, "watching INBOX with IDLE")
                return deliver_one_by_one(port, sink, n)
            finally:
                daemon.terminate()
                daemon.wait(30)
    finally:
        smtpd.stop()
        shutil.rmtree(work, ignore_errors=True)


def deliver_one_by_one(port: int, sink: AckSink, n: int) -> list[float]:
    latencies = []
    with MailBoxUnencrypted("127.0.0.1", port).login(USER, PASSWORD) as box:
        for i in range(n):
            mail = customer_mail(f"c{i}@customer.example", f"latency probe {i}", "Hello.", USER)
            box.append(mail.as_bytes(), "INBOX", flag_set=())
            delivered = time.monotonic()
            arrived = sink.wait(mail["Message-ID"], ACK_DEADLINE)
            latencies.append(ACK_DEADLINE if arrived is None else arrived - delivered)
    return latencies


def report(server: str, latencies: list[float]) -> None:
    p90 = statistics.quantiles(latencies, n=10)[-1] if len(latencies) > 1 else latencies[0]
    print(
        f"{server:8} N={len(latencies):3}  median {statistics.median(latencies):6.2f} s  "
        f"mean {statistics.mean(latencies):6.2f} s  "
        f"p90 {p90:6.2f} s  max {max(latencies):6.2f} s  "
        f"over 2 s: {sum(t > 2 for t in latencies)}",
        flush=True,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=20, help="mails per server (default 20)")
    parser.add_argument(
        "--server", action="append", choices=SERVERS, help="default: pymap and dovecot"
    )
    args = parser.parse_args(argv)
    for server in args.server or SERVERS:
        report(server, measure(server, args.n))


if __name__ == "__main__":
    main()
