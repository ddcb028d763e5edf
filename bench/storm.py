"""A storm, and an ordinary customer in it: is the acknowledgement still there in 2 s?

Why it exists: the loop budget ([loops]: 40 automatic mails per mailbox a day,
25 per ticket an hour) keeps a flood from being answered, but a flood still
has to be taken in, and the customer who writes during it must not wait
behind it. This runs `maildesk run` as a process (IDLE on, a poll interval of
120 s) against Dovecot or pymap and an aiosmtpd sink, and for a minute:

* one sender appends 1 000 mails (each a new subject: 1 000 new tickets);
* an auto-responder answers every mail the desk sends it with a new mail:
  no Auto-Submitted or other header that would say what it is, no thread, no
  ticket number in a subject of its own (the worst kind: each answer is a new
  ticket, whose ack it answers again); it starts the exchange with one mail;
* every STEP seconds an ordinary customer writes one mail.

It prints the ordinary customers' ack latency (median, p95, max, from the end
of the APPEND to the ack's arrival at the sink), how many storm mails were
acked and how many stored without an answer (the budget), how many rounds the
exchange went before the budget stopped it, and whether every mail has its
receipt. It asserts nothing.

How to run (repository root, `pip install -e '.[test,demo]'`, Dovecot installed):

    python bench/storm.py                       # 1000 storm mails in 60 s, Dovecot
    python bench/storm.py --storm 300 --seconds 20 --server pymap
"""

import argparse
import os
import secrets
import shutil
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from aiosmtpd.controller import Controller
from imap_tools import MailBoxUnencrypted

sys.path.insert(0, str(Path(__file__).parent))
from ack_latency import PASSWORD, USER, AckSink, start_daemon, wait_for_log  # noqa: E402
from harness import write_config  # noqa: E402 - the bench desk
from imap_servers import SERVERS, imap_server, imap_toml  # noqa: E402

from maildesk.demo.mails import customer_mail  # noqa: E402
from maildesk.demo.servers import free_port  # noqa: E402

FLOOD = "flood@storm.example"
RESPONDER = "away@responder.example"
TARGET = 2.0  # seconds: the ordinary customer's ack
ACK_DEADLINE = 150.0  # past one poll interval: a missed wake-up shows, not a hang
QUIET = 10.0  # seconds without news that end the run once the storm is in


class StormSink(AckSink):
    """The acks' arrival by the Message-ID they answer, mails per recipient, and the
    auto-responder: each mail to it gets an answer appended to the support mailbox."""

    def __init__(self, port: int) -> None:
        super().__init__()
        self.port = port
        self.to: dict[str, int] = {}
        self.last = time.monotonic()
        self.answers: list[bytes] = []
        self.appended = 0  # the auto-responder's mails in the mailbox
        self.answered = threading.Condition()

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd hook
        answer = await super().handle_DATA(server, session, envelope)
        with self.changed:
            for address in envelope.rcpt_tos:
                self.to[address] = self.to.get(address, 0) + 1
            self.last = time.monotonic()
        if RESPONDER in envelope.rcpt_tos:
            with self.answered:
                subject = f"Your mail has been received ({len(self.answers) + self.appended})"
                self.answers.append(responder_mail(subject).as_bytes())
                self.answered.notify()
        return answer


def responder_mail(subject: str):
    return customer_mail(RESPONDER, subject, "Thank you for your mail; it is in good hands.", USER)


def responder(sink: StormSink, stop: threading.Event) -> None:
    """Append the auto-responder's answers as they come (one connection of its own)."""
    with MailBoxUnencrypted("127.0.0.1", sink.port).login(USER, PASSWORD) as box:
        box.append(responder_mail("Hello from the responder").as_bytes(), "INBOX", flag_set=())
        sink.appended += 1
        while not stop.is_set():
            with sink.answered:
                sink.answered.wait_for(lambda: sink.answers or stop.is_set(), 0.5)
                waiting, sink.answers = sink.answers, []
            for raw in waiting:
                box.append(raw, "INBOX", flag_set=())
                sink.appended += 1


def flood(port: int, count: int, seconds: float) -> None:
    """`count` mails from one sender, spread evenly over `seconds`."""
    start = time.monotonic()
    with MailBoxUnencrypted("127.0.0.1", port).login(USER, PASSWORD) as box:
        for n in range(count):
            pause = start + n * seconds / count - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            mail = customer_mail(FLOOD, f"storm {n}: please call me back", "Call me.", USER)
            box.append(mail.as_bytes(), "INBOX", flag_set=())


def ordinary(port: int, sink: StormSink, count: int, step: float) -> list[float]:
    """`count` ordinary customers, one every `step` s: seconds from APPEND to ack."""
    latencies = []
    with MailBoxUnencrypted("127.0.0.1", port).login(USER, PASSWORD) as box:
        for n in range(count):
            time.sleep(step)
            mail = customer_mail(f"c{n}@customer.example", "My invoice is wrong", "Hello.", USER)
            box.append(mail.as_bytes(), "INBOX", flag_set=())
            appended = time.monotonic()
            arrived = sink.wait(mail["Message-ID"], ACK_DEADLINE)
            latencies.append(ACK_DEADLINE if arrived is None else arrived - appended)
    return latencies


def settle(sink: StormSink, database: Path, expected: Callable[[], int]) -> int:
    """Until every mail has its receipt and nothing was sent for QUIET s; the receipts."""
    while True:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
            handled = connection.execute("SELECT count(*) FROM receipts").fetchone()[0]
        if handled >= expected() and time.monotonic() - sink.last > QUIET:
            return handled
        time.sleep(0.5)


def run(server: str, storm: int, seconds: float, customers: int, keep: bool) -> None:
    work = Path(tempfile.mkdtemp(prefix=f"maildesk-storm-{server}-"))
    env = dict(os.environ, MAILDESK_SECRET=secrets.token_hex(32), MAILDESK_IMAP_PASSWORD=PASSWORD)
    with imap_server(server, work, USER, PASSWORD) as port:
        sink = StormSink(port)
        smtpd = Controller(sink, hostname="127.0.0.1", port=free_port())
        smtpd.start()
        config = write_config(
            work, imap_toml(port, USER, idle=True, poll_interval=120), smtpd.port
        )
        daemon = start_daemon(config, env)
        stop = threading.Event()
        try:
            wait_for_log(config, "watching INBOX with IDLE")
            bot = threading.Thread(target=responder, args=(sink, stop))
            storming = threading.Thread(target=flood, args=(port, storm, seconds))
            bot.start()
            storming.start()
            latencies = ordinary(port, sink, customers, seconds / (customers + 1))
            storming.join()
            handled = settle(sink, work / "desk.db", lambda: storm + customers + sink.appended)
            alive = daemon.poll() is None
        finally:
            stop.set()
            daemon.terminate()
            daemon.wait(60)
            smtpd.stop()
    report(server, storm, seconds, latencies, sink, handled, alive)
    if keep:
        print(f"  kept            {work} (daemon.log, desk.db)")
    else:
        shutil.rmtree(work, ignore_errors=True)


def report(server, storm, seconds, latencies, sink, handled, alive) -> None:
    ordered = sorted(latencies)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    acked = sink.to.get(FLOOD, 0)
    print(f"server {server}: {storm} storm mails in {seconds:.0f} s, one sender")
    print(
        f"  ordinary acks   N={len(latencies)}  median {statistics.median(latencies):.2f} s"
        f"  p95 {p95:.2f} s  max {max(latencies):.2f} s"
        f"  over {TARGET:.0f} s: {sum(t > TARGET for t in latencies)}"
    )
    print(f"  storm           acked {acked}, stored without an answer {storm - acked}")
    print(f"  auto-responder  stopped after {sink.to.get(RESPONDER, 0)} rounds (acks it got)")
    print(f"  receipts        {handled}; daemon {'running to the end' if alive else 'DIED'}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--storm", type=int, default=1000, help="storm mails (default 1000)")
    parser.add_argument("--seconds", type=float, default=60.0, help="storm length (default 60)")
    parser.add_argument("--customers", type=int, default=10, help="ordinary mails (default 10)")
    parser.add_argument("--server", choices=SERVERS, default="dovecot")
    parser.add_argument("--keep", action="store_true", help="keep the log and the database")
    args = parser.parse_args(argv)
    run(args.server, args.storm, args.seconds, args.customers, args.keep)


if __name__ == "__main__":
    main()
