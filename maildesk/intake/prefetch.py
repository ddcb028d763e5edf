"""Parse `import`'s mail ahead of the database work, in batches of one transaction each.

The parse child (sandbox/worker.py) works on the next mails while the main
process writes the ones before, so on two or more cores the two overlap. At
most `ahead` mails are in flight, so memory stays flat however large the
import. A mail the child rejects comes back as Unparseable, with its reason,
and intake quarantines it without parsing it again here.
"""

from collections.abc import Iterator

from maildesk.intake.chunked import chunked
from maildesk.intake.sources import RawMail
from maildesk.mail.message import Incoming
from maildesk.sandbox.worker import ParseWorker, Unparseable

BATCH = 100
AHEAD = 4 * BATCH
Parsed = list[tuple[RawMail, Incoming | Unparseable]]


def parsed_batches(
    parser: ParseWorker, items: Iterator[RawMail], size: int = BATCH, ahead: int = AHEAD
) -> Iterator[Parsed]:
    """Batches of `size` mails with their parse, in order."""
    return chunked(parser.parse_ahead(((item, item.raw) for item in items), ahead), size)
