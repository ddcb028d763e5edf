"""Outbox benchmark: how fast `outbox.drain` empties a full outbox into a loopback SMTP server.

Why it exists: after an import or a burst of tickets the outbox holds
thousands of acknowledgements, and each SMTP connection costs a TCP handshake,
the greeting, EHLO (and on a real server TLS and AUTH) before the first mail.
Issue #20 asks for one connection per drain instead of one per mail. This
fills a fresh SQLite desk's outbox with N due mails the way the desk does
(`maildesk import` of generated mails, bench/mailgen.py, queues their
acknowledgements), then calls `outbox.drain` until a drain finds nothing due,
against an aiosmtpd sink in a process of its own (so that it does not share
this one's GIL). It prints the mails due and sent, wall time, msg/s, the
drains it took, and the SMTP connections the sink saw opened and the mails it
accepted, once per `outbox.connections` compared (a drain shares its batch
among that many connections). On loopback a send costs CPU, not waiting;
`--latency` makes the sink wait before each RCPT and DATA answer as a remote
server's round trip would, where more connections pay. Nothing is asserted;
the import is not timed.

How to run (repository root, `pip install -e '.[test]'`):

    python bench/outbox.py                        # N=2000, connections 1 and 3
    python bench/outbox.py --latency 20           # a server 20 ms away
    python bench/outbox.py --n 500 --connections 1 --profile
"""

import argparse
import asyncio
import cProfile
import multiprocessing
import os
import pstats
import secrets
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from datetime import timedelta
from multiprocessing.sharedctypes import Synchronized
from multiprocessing.synchronize import Event
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP
from sqlalchemy import func, select, update

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))
from harness import run_child, write_config  # noqa: E402
from mailgen import write_mbox  # noqa: E402

from maildesk import config as config_module  # noqa: E402
from maildesk.app import App  # noqa: E402
from maildesk.demo.servers import free_port  # noqa: E402
from maildesk.store.tables import OutboxMail, OutboxStatus  # noqa: E402
from maildesk.transport import outbox  # noqa: E402

# This checkout's maildesk for the `import` child too, not whichever one pip installed.
ENV = dict(os.environ, MAILDESK_SECRET=secrets.token_hex(32), PYTHONPATH=str(ROOT))


class CountingSink:
    """aiosmtpd handler: counts connections opened (via CountingSMTP) and mails accepted."""

    def __init__(self, connections: Synchronized, mails: Synchronized, latency: float) -> None:
        self.connections, self.mails, self.latency = connections, mails, latency

    async def handle_RCPT(self, server, session, envelope, address, options) -> str:  # noqa: N802
        await asyncio.sleep(self.latency)  # a real server's round trip, once per command
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd hook
        await asyncio.sleep(self.latency)
        with self.mails.get_lock():
            self.mails.value += 1
        return "250 OK"


class CountingSMTP(SMTP):
    def connection_made(self, transport) -> None:
        sink = self.event_handler
        with sink.connections.get_lock():
            sink.connections.value += 1
        super().connection_made(transport)


class CountingController(Controller):
    def factory(self) -> SMTP:
        return CountingSMTP(self.handler, **self.SMTP_kwargs)


def serve(
    port: int,
    connections: Synchronized,
    mails: Synchronized,
    ready: Event,
    stop: Event,
    latency: float,
) -> None:
    """The sink process: accept on `port` from `ready` until `stop` is set."""
    controller = CountingController(
        CountingSink(connections, mails, latency), hostname="127.0.0.1", port=port
    )
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()


def fill(work: Path, n: int, seed: int, smtp_port: int) -> App:
    """A fresh desk with N due acknowledgements: of 1.5 N generated mails about 70 % get one
    (follow-ups, auto-replies and bounces do not); any past N are put off a day."""
    config = write_config(work, smtp_port=smtp_port)
    mbox = work / "mails.mbox"
    write_mbox(mbox, n * 3 // 2, seed)
    command = [sys.executable, "-m", "maildesk", "--config", str(config)]
    run_child([*command, "init"], ENV, work, "init")
    run_child([*command, "import", str(mbox)], ENV, work, "import")
    os.environ["MAILDESK_SECRET"] = ENV["MAILDESK_SECRET"]
    app = App.build(config_module.load(config))
    with app.engine.begin() as connection:
        nth = connection.scalar(select(OutboxMail.id).order_by(OutboxMail.id).offset(n - 1))
        if nth is not None:
            later = app.clock() + timedelta(days=1)
            connection.execute(
                update(OutboxMail).where(OutboxMail.id > nth).values(next_attempt_at=later)
            )
    return app


def due(app: App) -> int:
    """Pending mails due now: what the drains are to send."""
    with app.engine.connect() as connection:
        query = select(func.count()).where(
            OutboxMail.status == OutboxStatus.PENDING, OutboxMail.next_attempt_at <= app.clock()
        )
        return connection.scalar(query.select_from(OutboxMail)) or 0


def drain_all(app: App) -> tuple[outbox.DrainResult, int]:
    """Drain until a drain finds nothing due (deferred mail is not due again here)."""
    totals, drains = outbox.DrainResult(), 0
    while True:
        done = asyncio.run(outbox.drain(app))
        if not (done.sent or done.deferred or done.failed):
            return totals, drains
        totals.sent += done.sent
        totals.deferred += done.deferred
        totals.failed += done.failed
        drains += 1


def run(
    work: Path,
    args: argparse.Namespace,
    count: int,
    port: int,
    connections: Synchronized,
    mails: Synchronized,
) -> None:
    """Fill a fresh desk's outbox, drain it over `count` connections at once, print figures."""
    work.mkdir()
    app = fill(work, args.n, args.seed, port)
    app.config = replace(app.config, outbox=replace(app.config.outbox, connections=count))
    try:
        queued = due(app)
        print(f"== {queued} mails due, outbox.connections = {count} (N={args.n}) ==", flush=True)
        profiler = cProfile.Profile() if args.profile else None
        start = time.perf_counter()
        totals, drains = profiler.runcall(drain_all, app) if profiler else drain_all(app)
        seconds = time.perf_counter() - start
        left = due(app)
    finally:
        app.close()
    print(
        f"sent {totals.sent} in {seconds:.2f} s: {totals.sent / seconds:.1f} msg/s, "
        f"{drains} drains (batch_size {app.config.outbox.batch_size}); "
        f"{totals.deferred} deferred, {totals.failed} failed, {left} still due\n"
        f"sink: {connections.value} SMTP connections opened, {mails.value} mails accepted "
        f"({mails.value / max(connections.value, 1):.1f} per connection)"
    )
    if profiler:
        print("the drains under cProfile (slower than untraced), top 15 by cumulative time:")
        pstats.Stats(profiler, stream=sys.stdout).sort_stats("cumulative").print_stats(15)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=2000, help="generated mails to import")
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--profile", action="store_true", help="the drains under cProfile")
    parser.add_argument(
        "--connections",
        type=lambda text: [int(n) for n in text.split(",")],
        default=[1, 3],
        help="outbox.connections to compare, comma-separated (default 1,3)",
    )
    parser.add_argument(
        "--latency",
        type=float,
        default=0.0,
        help="milliseconds the sink waits before answering RCPT and DATA (a remote server)",
    )
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix=f"maildesk-outbox-{args.n}-"))
    spawn = multiprocessing.get_context("spawn")
    connections, mails = spawn.Value("i", 0), spawn.Value("i", 0)
    ready, stop = spawn.Event(), spawn.Event()
    port = free_port()
    sink = spawn.Process(
        target=serve, args=(port, connections, mails, ready, stop, args.latency / 1000)
    )
    sink.start()
    try:
        ready.wait(30)
        for count in args.connections:
            connections.value = mails.value = 0  # and the controller's own probe at start
            run(work / f"c{count}", args, count, port, connections, mails)
    finally:
        stop.set()
        sink.join(30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
