"""The delays after failures: doubling from a first delay, never above MAX_BACKOFF."""

MAX_BACKOFF = 300.0  # also how slowly a refused login or certificate is tried again


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
