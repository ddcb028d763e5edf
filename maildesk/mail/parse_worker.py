"""Customer bytes are parsed in a child process with a size, time and memory budget.

Parsing runs library code (the stdlib email package, tnefparse, compressed_rtf,
striprtf, inscriptis, charset-normalizer) over bytes anyone can send, and one
crafted attachment can make such code loop for hours. In a child that costs a
kill, not the desk: the parent knows when the child began the mail in hand,
kills it once that mail overruns `seconds`, and the mail is rejected with the
reason (intake quarantines it); an address-space limit turns a runaway
allocation into a MemoryError in the child. Mail over `max_bytes` never reaches
a parser. The mails queued behind a killed child go to a fresh one.
"""

import logging
import multiprocessing
import os
import queue
import resource
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import TypeVar

from maildesk.errors import TemporaryFailure
from maildesk.mail.message import Incoming, parse

log = logging.getLogger(__name__)
T = TypeVar("T")
# How often a waiting parent looks at the clock of the mail in hand.
_TICK = 0.05
# forkserver: children are forked from a clean, single-threaded server that has
# the parser imported, so a new child costs milliseconds and inherits no threads.
_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload(["maildesk.mail.message"])


@dataclass(frozen=True)
class Budget:
    """What one mail may cost the parser; the config keys name the limits in reasons."""

    max_bytes: int
    seconds: float
    memory_bytes: int


class Unparseable(Exception):  # noqa: N818 - a verdict on the mail, carried as a value
    """The mail could not be parsed or overran its budget; the reason says which."""


Result = Incoming | Unparseable


class ParseWorker:
    """One child process that parses mail in order; replaced when it is killed or dies.

    One caller at a time (a lock keeps it so): the poll cycle, `import` or `replay`.
    """

    def __init__(self, budget: Budget) -> None:
        self.budget = budget
        self._lock = threading.Lock()
        self._child: _Child | None = None

    def parse(self, raw: bytes) -> Incoming:
        """The parsed mail; raises Unparseable with the reason."""
        ((_, result),) = self.parse_ahead([(None, raw)], ahead=1)
        if isinstance(result, Unparseable):
            raise result
        return result

    def parse_ahead(
        self, items: Iterable[tuple[T, bytes]], ahead: int
    ) -> Iterator[tuple[T, Result]]:
        """(key, parse) for each (key, raw), in order, with up to `ahead` mails in flight."""
        with self._lock:
            pending: deque[tuple[T, bytes]] = deque()
            try:
                for key, raw in items:
                    refusal = self._refusal(raw)
                    if refusal is not None:
                        yield from self._drain(pending)
                        yield key, refusal
                        continue
                    pending.append((key, raw))
                    self._started().send(raw)
                    if len(pending) >= ahead:
                        yield self._answer(pending)
                yield from self._drain(pending)
            finally:
                if pending:  # left midway: the answers still due must not reach the next caller
                    self.close()

    def close(self) -> None:
        if self._child is not None:
            self._child.stop()
            self._child = None

    def _refusal(self, raw: bytes) -> Unparseable | None:
        if len(raw) <= self.budget.max_bytes:
            return None
        return Unparseable(
            f"message is {len(raw)} bytes, over intake.max_message_bytes = {self.budget.max_bytes}"
        )

    def _drain(self, pending: deque[tuple[T, bytes]]) -> Iterator[tuple[T, Result]]:
        while pending:
            yield self._answer(pending)

    def _started(self) -> "_Child":
        if self._child is None:
            # Room to receive the mail and send its parse back, beyond the parse itself.
            self._child = _Child(self.budget.memory_bytes + 3 * self.budget.max_bytes)
        return self._child

    def _answer(self, pending: deque[tuple[T, bytes]]) -> tuple[T, Result]:
        """The result for the oldest pending mail; a kill or crash while on it blames it.

        A child that died before it began the mail is not the mail's fault: the
        mails go to a fresh child once, and if that one dies too, the desk has a
        problem no mail caused (TemporaryFailure: they stay where they are).
        """
        for _attempt in range(2):
            child = self._started()
            result = child.receive(self.budget.seconds)
            if result is not None:
                return pending.popleft()[0], result
            log.warning("parser child replaced: %s", child.verdict)
            self._child = None
            if child.blamed:
                key, _raw = pending.popleft()
                self._resend(pending)
                return key, Unparseable(child.verdict)
            self._resend(pending)
        raise TemporaryFailure(f"the parser process does not start: {child.verdict}")

    def _resend(self, pending: deque[tuple[T, bytes]]) -> None:
        """Mails that were queued on a child that is gone, to its successor."""
        for _key, raw in pending:
            self._started().send(raw)


class _Child:
    """The process, its two pipes, and the clock of the mail in hand.

    Raw mail goes down as bytes, not pickled (a copy less of a large mail on
    each side), written by a feeder thread so that a large mail never blocks
    the caller while the child waits for its results to be read.
    """

    def __init__(self, memory_bytes: int) -> None:
        child_requests, self._requests = _CONTEXT.Pipe(duplex=False)
        self.results, child_results = _CONTEXT.Pipe(duplex=False)
        self.began = _CONTEXT.Value("d", 0.0, lock=False)  # monotonic start of the mail in hand
        self.process = _CONTEXT.Process(
            target=_serve,
            args=(child_requests, child_results, self.began, memory_bytes),
            name="maildesk-parse",
            daemon=True,
        )
        self.process.start()
        child_requests.close()
        child_results.close()
        self._outgoing: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._feeder = threading.Thread(target=self._feed, name="maildesk-parse-feed", daemon=True)
        self._feeder.start()
        self.verdict: str | None = None
        self.blamed = False  # killed or died while on a mail

    def send(self, raw: bytes) -> None:
        self._outgoing.put(raw)

    def _feed(self) -> None:
        """Write queued mail to the child; None closes the pipe, which ends the child."""
        while (raw := self._outgoing.get()) is not None:
            try:
                self._requests.send_bytes(raw)
            except OSError:  # the child is gone; receive() says why
                break
        self._requests.close()

    def receive(self, seconds: float) -> Result | None:
        """The next result; None (and `verdict` set) when the child was killed or died."""
        while not self.results.poll(_TICK):
            began = self.began.value
            if not self.process.is_alive():
                self.verdict = f"the parser crashed (exit code {self.process.exitcode})"
                break
            if began and time.monotonic() - began > seconds:
                self.verdict = f"parsing took over intake.parse_seconds = {seconds:g} s"
                break
        else:
            try:
                return self.results.recv()
            except EOFError:
                self.verdict = "the parser crashed"
        self.blamed = bool(self.began.value)
        self.stop()
        return None

    def stop(self) -> None:
        """End the child at its next read; kill it if it is busy or was judged."""
        self._outgoing.put(None)
        if self.verdict is None:
            self.process.join(5)
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self.process.close()
        self._feeder.join()
        self.results.close()


def _serve(requests: Connection, results: Connection, began, memory_bytes: int) -> None:
    """The child's loop: parse each mail, answer in order, until the pipe closes."""
    _limit_memory(memory_bytes)
    threading.Thread(target=_exit_with_parent, name="maildesk-parent-watch", daemon=True).start()
    while True:
        try:
            raw = requests.recv_bytes()
        except EOFError:
            return
        began.value = time.monotonic()
        result = _parse_one(raw)
        del raw
        began.value = 0.0
        _reply(results, result)


def _exit_with_parent() -> None:
    """A parent killed with SIGKILL closes no pipe for us mid-parse: end when it is gone."""
    multiprocessing.parent_process().join()
    os._exit(1)


def _parse_one(raw: bytes) -> Result:
    try:
        return parse(raw)
    except MemoryError:
        return Unparseable("parsing needed more than intake.parse_memory_mb")
    except Exception as exc:  # noqa: BLE001 - any failure is a verdict on this mail
        return Unparseable(f"{type(exc).__name__}: {exc}"[:2000])


def _reply(results: Connection, result: Result) -> None:
    try:
        results.send(result)
    except MemoryError:
        results.send(Unparseable("parsing needed more than intake.parse_memory_mb"))


def _limit_memory(memory_bytes: int) -> None:
    """Cap the child's address space at what it uses now plus the budget."""
    with open("/proc/self/statm") as statm:
        in_use = int(statm.read().split()[0]) * resource.getpagesize()
    limit = in_use + memory_bytes
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
