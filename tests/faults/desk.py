"""What the kill rounds need: `maildesk run` on a clock the test moves from outside,
forked per round from one interpreter, and a kill point drawn from a seeded random.

The daemon is a real process, so its clock cannot be an object of the test:
`CLOCKED` runs `maildesk run` with its App built on a clock read from the file
`desk-clock` beside its config (an ISO time, frozen until the test writes
another). This hook lives here, in the tests, and nowhere in maildesk.
"""

import os
import random
import select
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from tests.conftest import PASSWORD, SECRET
from tests.daemon.test_process import HANG

CLOCK_FILE = "desk-clock"
# The one hook: `maildesk run` whose App reads its time from CLOCK_FILE beside the config.
CLOCKED = f"""
import sys
from datetime import datetime
from pathlib import Path
from maildesk.app import App
from maildesk.cli import main

def run(config):
    moment = Path(config).parent / {CLOCK_FILE!r}
    build = App.build.__func__
    clock = lambda: datetime.fromisoformat(moment.read_text())
    App.build = classmethod(lambda cls, settings, clock_=None: build(cls, settings, clock))
    sys.argv = ["maildesk", "--config", config, "run"]
    main()
"""
# Forks a clocked `maildesk run` per line "start CONFIG" of its stdin, its log in
# daemon.log beside the config; "kill PID" (SIGKILL) or "stop PID" (SIGTERM) ends one
# and answers its exit code. A round's daemon then starts without the two seconds of
# CPU that importing the desk costs.
FORKING = (
    CLOCKED
    + """
import os, signal
import maildesk.daemon.loop, maildesk.intake.poller, maildesk.transport.outbox

for line in sys.stdin:
    command, argument = line.split()
    if command in ("kill", "stop"):
        os.kill(int(argument), signal.SIGKILL if command == "kill" else signal.SIGTERM)
        print(os.waitstatus_to_exitcode(os.waitpid(int(argument), 0)[1]), flush=True)
        continue
    pid = os.fork()
    if pid == 0:
        log = os.open(Path(argument).parent / "daemon.log", os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 0), os.dup2(null, 1), os.dup2(log, 2)
        code = 1
        try:
            run(argument)
        except SystemExit as done:
            code = done.code or 0
        except BaseException:
            import traceback
            traceback.print_exc()
        finally:
            os._exit(code)
    print(pid, flush=True)
"""
)


class DeskClock:
    """The time each daemon the Forker starts on this config sees; `advance` moves it."""

    def __init__(self, config: Path, now: datetime) -> None:
        self.path = config.parent / CLOCK_FILE
        self.now = now
        self._write()

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)
        self._write()

    def _write(self) -> None:
        scratch = self.path.with_suffix(".new")
        scratch.write_text(self.now.isoformat())
        scratch.replace(self.path)  # a daemon reading it sees the old time or the new


@dataclass(frozen=True)
class KillPoint:
    """Where a round's SIGKILL lands: `amount` seconds after the daemon said it runs, or
    once `amount` more of `what` (mails fetched, mails sent) than before its start."""

    what: str  # "delay", "fetched" or "sent"
    amount: float

    @classmethod
    def draw(cls, rng: random.Random, fetched: int, sent: int) -> "KillPoint":
        """A point that must come: at most `fetched` mails to fetch, `sent` to send."""
        what = rng.choice(["delay", "fetched", "sent"])
        if what == "delay":
            return cls(what, round(rng.uniform(0.0, 2.0), 2))
        return cls(what, rng.randint(1, max(fetched if what == "fetched" else sent, 1)))

    def wait(
        self, proc: "Forked", counters: dict[str, Callable[[], int]], before: dict[str, int]
    ) -> None:
        """Until the point is reached; `before` holds the `counters` (fetched, sent) as they
        were before the daemon started."""
        if self.what == "delay":
            proc.wait_for_log("maildesk running")
            time.sleep(self.amount)  # the kill point itself, not a wait for an outcome
            return
        seen, goal = counters[self.what], before[self.what] + self.amount
        deadline = time.monotonic() + HANG
        while seen() < goal:
            assert proc.poll() is None, "the daemon ended before its kill point"
            assert time.monotonic() < deadline, f"{self} not reached"
            time.sleep(0.02)


class Forked:
    """A daemon the Forker made: its pid, and the part of daemon.log written since."""

    def __init__(self, pid: int, log: Path) -> None:
        self.pid, self.log = pid, log
        self.start = log.stat().st_size if log.exists() else 0

    def poll(self) -> int | None:
        """None while it runs (as Popen.poll); its zombie counts as ended."""
        stat = Path(f"/proc/{self.pid}/stat")
        running = stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
        return None if running else 1

    def wait_for_log(self, text: str) -> None:
        deadline = time.monotonic() + HANG
        while text not in self.log.read_bytes()[self.start :].decode(errors="replace"):
            assert self.poll() is None, f"the daemon ended before {text!r}"
            assert time.monotonic() < deadline, f"no {text!r} in {self.log}"
            time.sleep(0.02)


class Forker:
    """One interpreter with the desk imported, forking a clocked `maildesk run` per round."""

    def __init__(self) -> None:
        env = dict(os.environ, MAILDESK_SECRET=SECRET, MAILDESK_IMAP_PASSWORD=PASSWORD)
        self.proc = subprocess.Popen(
            [sys.executable, "-c", FORKING],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )

    def _ask(self, line: str, timeout: float = HANG) -> str:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        assert ready, f"no answer to {line!r} in {timeout} s"
        return self.proc.stdout.readline().strip()

    def start(self, config: Path) -> Forked:
        log = config.parent / "daemon.log"
        log.touch()
        return Forked(int(self._ask(f"start {config}")), log)

    def kill(self, daemon: Forked) -> None:
        """SIGKILL, reaped before this returns."""
        assert self._ask(f"kill {daemon.pid}") == "-9"

    def stop(self, daemon: Forked) -> int:
        """SIGTERM; its exit code once it stopped (it finishes the mail in hand first)."""
        return int(self._ask(f"stop {daemon.pid}"))

    def close(self) -> None:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.close()
        self.proc.wait(30)
        self.proc.stdout.close()
