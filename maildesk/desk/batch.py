"""What one unit of work reads once or holds back, kept on the Batch its desk carries.

A unit of work is one transaction: a batch of mails (intake), of clocks (the
SLA sweep), one command. What it read ahead (the threads of its tickets, the
bouncing addresses) or holds back (SLA ledger rows, written in one statement)
lives here, passed explicitly with the desk (context.py), never on the
session. Intake also holds its append-only rows (`Held`: events, participants,
outgoing mail and its outbox rows; held.py writes them). Intake runs each mail
in a savepoint (`savepoint`): when one rolls back, what that mail added here
goes with it.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from maildesk.kb.index import Index
from maildesk.store.tables import Ticket

HELD_TABLES = ("participants", "messages", "outbox", "events")  # written in this order
Mark = tuple[tuple[int, int], ...]
# A sender's hour of staff notices: when it began, how many, changed since it was read.
Count = tuple[datetime, int, bool]


@dataclass
class Held:
    """Rows held back to be written together (held.py), in the order they were made, per
    table: outgoing mail (messages), outbox rows (each with its "recipients"), events,
    participants. The first `written` of each are in the database (a reader flushed);
    they stay here until the unit ends, for a savepoint that rolls back their writing."""

    rows: dict[str, list[dict[str, Any]]] = field(
        default_factory=lambda: {table: [] for table in HELD_TABLES}
    )
    written: dict[str, int] = field(default_factory=lambda: dict.fromkeys(HELD_TABLES, 0))

    def unwritten(self, table: str) -> list[dict[str, Any]]:
        return self.rows[table][self.written[table] :]

    def mark(self) -> Mark:
        return tuple((len(self.rows[t]), self.written[t]) for t in HELD_TABLES)

    def restore(self, mark: Mark) -> None:
        """Back to `mark`: rows held since are dropped, rows written since are held again
        (the savepoint that wrote them rolled back)."""
        for table, (size, written) in zip(HELD_TABLES, mark, strict=True):
            del self.rows[table][size:]
            self.written[table] = written


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
    held: Held | None = None  # append-only rows held back (held.py: holding, flush)
    # Read ahead for intake's batch (intake/read_ahead.py); None or missing: ask.
    incoming: dict[str, bool] | None = None  # its mails' Message-IDs: stored already?
    customers: dict[str, list[Ticket]] | None = None  # their latest tickets, newest first
    assignees: dict[str | None, str] = field(default_factory=dict)  # a team's last (routing)
    notices: dict[str, Count | None] | None = None  # senders' hours (notice_cap.py)
    # The last ticket number this unit gave on SQLite, and whether it is written (held.py).
    numbered: tuple[int, bool] | None = None

    @contextmanager
    def savepoint(self, session: Session) -> Iterator[None]:
        """A savepoint whose rollback also undoes what was added here meanwhile."""
        threads = {t: len(ids) for t, ids in self.threads.items()}
        held = len(self.ledger) if self.ledger is not None else 0
        rows = self.held.mark() if self.held is not None else None
        notices = dict(self.notices) if self.notices is not None else None
        numbered = self.numbered
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
            if self.held is not None and rows is not None:
                self.held.restore(rows)
            self.bouncing = None  # read again: the mail rolled back may have changed it
            self.incoming, self.customers = None, None  # so may these
            self.assignees.clear()
            self.notices = notices  # what the batch counted, but not the mail rolled back
            if numbered is not None:  # its number is given again, the counter written again
                self.numbered = (numbered[0], False)
            else:
                self.numbered = None
            raise
