"""What one unit of work reads once or holds back, kept on the Batch its desk carries.

A unit of work is one transaction: a batch of mails (intake), of clocks (the
SLA sweep), one command. What it read ahead (the threads of its tickets, the
bouncing addresses) or holds back (SLA ledger rows, written in one statement)
lives here, passed explicitly with the desk (context.py), never on the
session. Intake runs each mail in a savepoint (`savepoint`): when one rolls
back, what that mail added here goes with it.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from maildesk.kb.index import Index


@dataclass
class Batch:
    """The unit of work's read-ahead and held-back rows; None: not read or not holding."""

    # Message-IDs per ticket whose thread the batch knows: read at once (threads.known),
    # or a ticket it opened; kept current as mails join them (threads.note).
    threads: dict[int, list[str]] = field(default_factory=dict)
    ledger: list[dict[str, Any]] | None = None  # SLA ledger rows held back (ledger.batched)
    bouncing: set[str] | None = None  # the addresses our mail does not reach (bounces.py)
    kb_index: Index | None = None  # the published articles, as this unit found them
    # The mails it took in, (mailbox, class or "quarantined"): counted once it commits.
    arrivals: list[tuple[str, str]] = field(default_factory=list)

    @contextmanager
    def savepoint(self, session: Session) -> Iterator[None]:
        """A savepoint whose rollback also undoes what was added here meanwhile."""
        threads = {t: len(ids) for t, ids in self.threads.items()}
        held = len(self.ledger) if self.ledger is not None else 0
        try:
            with session.begin_nested():
                yield
        except BaseException:
            for ticket_id in list(self.threads):
                if ticket_id in threads:
                    del self.threads[ticket_id][threads[ticket_id] :]
                else:
                    del self.threads[ticket_id]  # a ticket of the rolled-back mail
            if self.ledger is not None:
                del self.ledger[held:]
            self.bouncing = None  # read again: the mail rolled back may have changed it
            raise
