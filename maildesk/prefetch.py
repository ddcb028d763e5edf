"""Parse mail ahead in a worker process while the main process writes to the database.

Parsing is pure CPU work (message.parse); on a machine with two or more cores
`import` overlaps it with the database work of the mails before. Mail goes to
the worker in batches: one task per mail cost more in inter-process traffic
than the parse itself (bench/ingest.py). At most `window` batches are in
flight, so memory stays flat however large the import. A mail the worker
cannot parse comes back as None and the main process parses it again, so the
exception (and the quarantine reason) is its own.
"""

import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor

from maildesk.chunked import chunked
from maildesk.message import Incoming, parse
from maildesk.sources import RawMail

BATCH = 100
WINDOW = 4
Parsed = list[tuple[RawMail, Incoming | None]]


def _parse_or_none(raw: bytes) -> Incoming | None:
    try:
        return parse(raw)
    except Exception:  # noqa: BLE001 - the main process parses it again and quarantines
        return None


def _parse_all(raws: list[bytes]) -> list[Incoming | None]:
    return [_parse_or_none(raw) for raw in raws]


def parsed_batches(
    items: Iterator[RawMail], size: int = BATCH, window: int = WINDOW
) -> Iterator[Parsed]:
    """Batches of mails with their parse, in order; unparsed when there is only one core."""
    if (os.cpu_count() or 1) < 2:
        for batch in chunked(items, size):
            yield [(item, None) for item in batch]
        return
    with ProcessPoolExecutor(max_workers=1) as pool:
        pending: deque[tuple[list[RawMail], Future]] = deque()
        for batch in chunked(items, size):
            pending.append((batch, pool.submit(_parse_all, [item.raw for item in batch])))
            if len(pending) >= window:
                yield _joined(*pending.popleft())
        while pending:
            yield _joined(*pending.popleft())


def _joined(batch: list[RawMail], future: Future) -> Parsed:
    return list(zip(batch, future.result(), strict=True))
