"""The delays after failures: server trouble doubles from a first delay, never above
MAX_BACKOFF; a refused login or certificate waits longer, and longer still once it
has been refused a few times in a row (an account lockout is one wrong password
too many away)."""

import threading
import time
from collections.abc import Callable

MAX_BACKOFF = 300.0  # the longest wait after server trouble; after a first refusal
REFUSED_SLOW = 900.0  # after REFUSED_FAST refusals in a row: one try per 15 minutes
REFUSED_FAST = 3


class Backoff:
    """The delay before the next try, after each failure in a row."""

    def __init__(self, first: float) -> None:
        self.first = first
        self.failures = 0

    def failed(self) -> float:
        """Note a failure; the delay before the next try (first, 2x first, 4x first, ...)."""
        delay = min(self.first * 2**self.failures, MAX_BACKOFF)
        self.failures += 1
        return delay

    def reset(self) -> None:
        self.failures = 0


class Refusals:
    """One server's refusals in a row (login, certificate), shared by every thread that
    connects to it, so a mailbox's poll job and its IDLE watcher make one schedule.

    The job that notes them (`refused`) owns the schedule: it tries again after
    MAX_BACKOFF, and after the third refusal only every REFUSED_SLOW. The others
    do not try on their own: they wait for a connection that was `accepted`.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.count = 0
        self._retry_at = 0.0
        self._accepted = 0  # how many times a connection was accepted
        self._changed = threading.Condition()

    def refused(self) -> float:
        """Note a refusal; the delay before the next try."""
        with self._changed:
            self.count += 1
            delay = MAX_BACKOFF if self.count < REFUSED_FAST else REFUSED_SLOW
            self._retry_at = self.clock() + delay
            return delay

    def accepted(self) -> None:
        """A connection was accepted: the refusals are over; whoever waits may try."""
        with self._changed:
            self.count = 0
            self._retry_at = 0.0
            self._accepted += 1
            self._changed.notify_all()

    def wait(self) -> float:
        """Seconds before the next try is due (0.0: now)."""
        with self._changed:
            return max(0.0, self._retry_at - self.clock()) if self.count else 0.0

    @property
    def acceptances(self) -> int:
        with self._changed:
            return self._accepted

    def wait_for_acceptance(self, after: int, stop: threading.Event, poll: float = 1.0) -> None:
        """Until a connection is accepted after the `after`-th acceptance, or `stop`."""
        with self._changed:
            while self._accepted <= after and not stop.is_set():
                self._changed.wait(poll)
