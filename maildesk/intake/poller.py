"""One poll cycle: new mail by UID → intake → move on the server after the commit.

Idempotent across crashes: the receipt (mailbox, UIDVALIDITY, UID) and the
cursor are written in the same transaction as the ticket entry, and the
message is moved only after that commit. A mail seen again after a crash
between commit and move is just moved; a new UIDVALIDITY resets the cursor
and Message-ID deduplication keeps the re-fetched mail from counting twice.
"""

import logging
import threading
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from maildesk.app import App
from maildesk.errors import ConfigError
from maildesk.intake import pipeline
from maildesk.intake.chunked import chunked
from maildesk.intake.pipeline import Outcome
from maildesk.store.db import transaction
from maildesk.store.tables import Cursor, Receipt
from maildesk.transport.inbox import Inbox

log = logging.getLogger(__name__)
# UIDs per round: receipts looked up in one query, moves sent in one command per folder.
CHUNK = 50


@dataclass
class PollResult:
    outcomes: dict[str, int] = field(default_factory=dict)

    def count(self, outcome: Outcome) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1

    @property
    def handled(self) -> int:
        return sum(self.outcomes.values())


def poll_once(app: App, stop: threading.Event | None = None) -> PollResult:
    """Fetch and process everything new; stops early (between mails) when `stop` is set."""
    if app.config.imap is None:
        raise ConfigError("imap: section is missing; nothing to poll")
    result = PollResult()
    with Inbox(app.config.imap) as inbox:
        validity = inbox.uidvalidity()
        cursor = _load_cursor(app, inbox.key, validity)
        moving = bool(app.config.imap.processed_folder)
        for chunk in chunked(inbox.uids(after=0 if moving else cursor), CHUNK):
            if not _handle_chunk(app, inbox, validity, chunk, result, stop):
                break
    return result


def _handle_chunk(
    app: App,
    inbox: Inbox,
    validity: int,
    uids: list[int],
    result: PollResult,
    stop: threading.Event | None,
) -> bool:
    """Process `uids` one transaction each, then move them in one command per folder.

    False when `stop` was set: the mails handled so far are still moved.
    """
    known = _known_outcomes(app, inbox.key, validity, uids)
    done: dict[str, list[int]] = {}
    imap = app.config.imap
    try:
        for uid in uids:
            if stop is not None and stop.is_set():
                return False
            outcome = known.get(uid) or _process_uid(app, inbox, validity, uid, result)
            if outcome is not None:
                quarantined = outcome == Outcome.QUARANTINED
                folder = imap.quarantine_folder if quarantined else imap.processed_folder
                done.setdefault(folder, []).append(uid)
    finally:
        for folder, handled in done.items():
            inbox.mark_done(handled, folder)
    return True


def _process_uid(
    app: App, inbox: Inbox, validity: int, uid: int, result: PollResult
) -> Outcome | None:
    """Fetch and run intake on one message; None when it vanished from the server."""
    raw = inbox.fetch(uid)
    if raw is None:
        return None
    outcome = pipeline.process(
        app,
        raw,
        f"imap:{inbox.key}#{validity}:{uid}",
        bookkeeping=receipt_writer(inbox.key, validity, uid),
    )
    result.count(outcome)
    return outcome


def _known_outcomes(app: App, key: str, validity: int, uids: list[int]) -> dict[int, Outcome]:
    """Receipts of mail already handled (a crash came between commit and move)."""
    query = select(Receipt.uid, Receipt.outcome).where(
        Receipt.mailbox == key, Receipt.uidvalidity == validity, Receipt.uid.in_(uids)
    )
    with transaction(app.sessions) as session:
        return {uid: Outcome(outcome) for uid, outcome in session.execute(query)}


def receipt_writer(key: str, validity: int, uid: int) -> pipeline.Bookkeeping:
    def record(session: Session, outcome: Outcome) -> None:
        session.add(Receipt(mailbox=key, uidvalidity=validity, uid=uid, outcome=outcome))
        cursor = session.get(Cursor, key)
        if cursor is None:
            session.add(Cursor(mailbox=key, uidvalidity=validity, last_uid=uid))
        elif cursor.uidvalidity != validity or uid > cursor.last_uid:
            cursor.uidvalidity, cursor.last_uid = validity, uid

    return record


def _load_cursor(app: App, key: str, validity: int) -> int:
    """Last UID handled; 0 after a UIDVALIDITY change (the server renumbered)."""
    with transaction(app.sessions) as session:
        cursor = session.get(Cursor, key)
        if cursor is None:
            return 0
        if cursor.uidvalidity != validity:
            log.warning(
                "UIDVALIDITY of %s changed (%s -> %s): rescanning",
                key,
                cursor.uidvalidity,
                validity,
            )
            return 0
        return cursor.last_uid
