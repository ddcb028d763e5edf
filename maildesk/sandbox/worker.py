"""Customer bytes are parsed in a child process with a size, time and memory budget.

Parsing runs library code (the stdlib email package, tnefparse, compressed_rtf,
striprtf, inscriptis, charset-normalizer) over bytes anyone can send, and one
crafted attachment can make such code loop for hours. In a child that costs a
kill, not the desk: the parent knows when the child began the mail in hand,
kills it once that mail overruns `seconds`, and the mail is rejected with the
reason (intake quarantines it); an address-space limit turns a runaway
allocation into a MemoryError in the child. Mail over `max_bytes` never reaches
a parser. The mails queued behind a killed child go to a fresh one. The
process, its pipes and its clock are child.py.
"""

import logging
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from maildesk.errors import TemporaryFailure
from maildesk.mail.message import Incoming
from maildesk.sandbox.child import Child

log = logging.getLogger(__name__)
T = TypeVar("T")


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
    `on_kill` is told of each child killed or dead on a mail (the metrics count them).
    """

    def __init__(self, budget: Budget, on_kill: Callable[[], None] = lambda: None) -> None:
        self.budget = budget
        self.on_kill = on_kill
        self._lock = threading.Lock()
        self._child: Child | None = None

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

    def _started(self) -> Child:
        if self._child is None:
            # Room to receive the mail and send its parse back, beyond the parse itself.
            self._child = Child(self.budget.memory_bytes + 3 * self.budget.max_bytes)
        return self._child

    def _answer(self, pending: deque[tuple[T, bytes]]) -> tuple[T, Result]:
        """The result for the oldest pending mail; a kill or crash while on it blames it.

        A child that died before it began the mail is not the mail's fault: the
        mails go to a fresh child once, and if that one dies too, the desk has a
        problem no mail caused (TemporaryFailure: they stay where they are).
        """
        for _attempt in range(2):
            child = self._started()
            reply = child.receive(self.budget.seconds)
            if isinstance(reply, str):  # the child's reason why the mail is unparseable
                return pending.popleft()[0], Unparseable(reply)
            if reply is not None:
                return pending.popleft()[0], reply
            log.warning("parser child replaced: %s", child.verdict)
            self._child = None
            if child.blamed:
                self.on_kill()
                key, _raw = pending.popleft()
                self._resend(pending)
                return key, Unparseable(child.verdict)
            self._resend(pending)
        raise TemporaryFailure(f"the parser process does not start: {child.verdict}")

    def _resend(self, pending: deque[tuple[T, bytes]]) -> None:
        """Mails that were queued on a child that is gone, to its successor."""
        for _key, raw in pending:
            self._started().send(raw)
