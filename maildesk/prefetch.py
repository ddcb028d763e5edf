"""Parse mail ahead in a worker process while the main process writes to the database.

Parsing is pure CPU work (message.parse); on a machine with two or more cores
`import` overlaps it with the database work of the mails before. At most
`window` mails are in flight, so memory stays flat however large the import.
A mail the worker cannot parse comes back as None and the main process parses
it again, so the exception (and the quarantine reason) is its own.
"""

import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor

from maildesk.message import Incoming, parse
from maildesk.sources import RawMail

WINDOW = 64


def _parse_or_none(raw: bytes) -> Incoming | None:
    try:
        return parse(raw)
    except Exception:  # noqa: BLE001 - the main process parses it again and quarantines
        return None


def parsed(
    items: Iterator[RawMail], window: int = WINDOW
) -> Iterator[tuple[RawMail, Incoming | None]]:
    """Each mail with its parse, in order; in-process when there is only one core."""
    if (os.cpu_count() or 1) < 2:
        for item in items:
            yield item, None
        return
    with ProcessPoolExecutor(max_workers=1) as pool:
        pending: deque[tuple[RawMail, Future]] = deque()
        for item in items:
            pending.append((item, pool.submit(_parse_or_none, item.raw)))
            if len(pending) >= window:
                first, future = pending.popleft()
                yield first, future.result()
        while pending:
            first, future = pending.popleft()
            yield first, future.result()
