"""One poll cycle: new mail by UID, in rounds of one transaction, moved after the commit.

A round is up to ROUND mails (and ROUND_BYTES): claimed until moved (claims.py,
so several workers share a mailbox and each mail is handled and moved once), fetched in
one command, parsed ahead in the parse child while the mails before are
written, and committed at once with their receipts. Only then are they moved
on the server. Idempotent across crashes: a mail seen again after a crash
between commit and move has a receipt and is just moved; a crash before the
commit leaves nothing behind, and the mails are taken again. A new
UIDVALIDITY resets the cursor, and Message-ID deduplication keeps the
re-fetched mail from counting twice. With a processed folder, the mails of a sender
flooding the listing (over FLOOD) come in rounds after everyone else's (flag mode keeps
UID order: its cursor means "all below are done").
"""

import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from maildesk.app import App
from maildesk.config import Config, MailboxConfig
from maildesk.errors import ConfigError, TemporaryFailure
from maildesk.intake import pipeline
from maildesk.intake.chunked import chunked
from maildesk.intake.pipeline import Outcome, Pending
from maildesk.store import claims
from maildesk.store.db import InsertOrUpdate, execute, transaction, unavailable_is_temporary
from maildesk.store.intake_tables import Cursor, MailboxPoll, Receipt
from maildesk.transport.inbox import Inbox

log = logging.getLogger(__name__)
# Mails per round: one transaction, one FETCH, one MOVE per folder. A round
# also stops at ROUND_BYTES, so a backlog of large mails keeps memory flat.
ROUND = 50
ROUND_BYTES = 32 * 1024 * 1024
OUTLINE = 1000  # UIDs per FETCH of sizes and senders
FLOOD = 10  # a sender with more mails than this in one listing has them taken last
_INSERT_RECEIPT = insert(Receipt.__table__)
_UPSERT_POLL = InsertOrUpdate(MailboxPoll.__table__, ["mailbox"], ["polled_at"])


@dataclass
class PollResult:
    outcomes: dict[str, int] = field(default_factory=dict)

    def count(self, outcome: str, times: int = 1) -> None:  # an Outcome, or a key of outcomes
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + times

    def merge(self, other: "PollResult") -> None:
        for outcome, times in other.outcomes.items():
            self.count(outcome, times)

    @property
    def handled(self) -> int:
        return sum(self.outcomes.values())


def poll_once(app: App, stop: threading.Event | None = None) -> PollResult:
    """Every mailbox in turn (`poll --once`); one that is down does not stop the others.

    Raises the first mailbox's TemporaryFailure after the others were polled.
    """
    if not app.config.mailboxes:
        raise ConfigError("imap: no [imap] or [[mailboxes]] configured; nothing to poll")
    result = PollResult()
    failure: TemporaryFailure | None = None
    for mailbox in app.config.mailboxes:
        try:
            result.merge(poll_mailbox(app, mailbox, stop))
        except TemporaryFailure as exc:
            log.warning("mailbox %s: %s", mailbox.name, exc)
            failure = failure or exc
    if failure is not None:
        raise failure
    return result


def poll_mailbox(
    app: App,
    mailbox: MailboxConfig,
    stop: threading.Event | None = None,
    committed: Callable[[], None] | None = None,
) -> PollResult:
    """Fetch and process everything new; stops early (between mails) when `stop` is set.
    `committed` is called after each round's commit (the daemon's drain: its acks go out
    while the rounds behind it are taken).

    A cycle that went through, with mail or none, is noted as the mailbox's last
    successful poll (status, /readyz, /metrics).
    """
    result = PollResult()
    with Inbox(mailbox.imap, app.clock) as inbox:
        validity = inbox.uidvalidity()
        moving = bool(mailbox.imap.processed_folder)
        listed = inbox.uids(after=0 if moving else _load_cursor(app, inbox.key, validity))
        outline = {}
        for chunk in chunked(listed, OUTLINE):
            outline.update(inbox.outline(chunk))
        sizes = {uid: size for uid, (size, _) in outline.items()}
        # In flag mode the cursor says "all below are done": the UIDs go in order.
        for part in _floods_last(listed, outline) if moving else [listed]:
            for chunk in chunked(part, ROUND):
                for uids in _by_size(chunk, sizes):
                    if not _round(app, mailbox, inbox, validity, uids, result, stop):
                        return result
                    if committed is not None:
                        committed()
    _note_poll(app, mailbox)
    return result


def _note_poll(app: App, mailbox: MailboxConfig) -> None:
    with unavailable_is_temporary(), transaction(app.sessions, write=True) as session:
        _UPSERT_POLL(session, {"mailbox": mailbox.name, "polled_at": app.clock()})


def _floods_last(uids: list[int], outline: dict[int, tuple[int, str]]) -> list[list[int]]:
    """The mails of senders with more than FLOOD of them in this listing after everyone
    else's, in rounds of their own: one sender's storm never holds up another's mail."""
    senders = Counter(sender for _, sender in outline.values())
    flooding = {uid for uid, (_, sender) in outline.items() if senders[sender] > FLOOD}
    return [[u for u in uids if u not in flooding], [u for u in uids if u in flooding]]


def _by_size(uids: list[int], sizes: dict[int, int]) -> Iterator[list[int]]:
    """`uids` in runs of at most ROUND_BYTES (a larger mail is a run of its own)."""
    run: list[int] = []
    total = 0
    for uid in uids:
        size = sizes.get(uid, 0)
        if run and total + size > ROUND_BYTES:
            yield run
            run, total = [], 0
        run.append(uid)
        total += size
    if run:
        yield run


def _round(
    app: App,
    mailbox: MailboxConfig,
    inbox: Inbox,
    validity: int,
    uids: list[int],
    result: PollResult,
    stop: threading.Event | None,
) -> bool:
    """Claim, fetch, process and commit `uids`, then move them; False when `stop` was set.

    The mails handled before `stop` are committed and moved; the rest wait.
    """
    done: dict[str, list[int]] = {}
    stopped = False
    with (
        unavailable_is_temporary(),
        claims.hold_uids(app.engine, inbox.key, validity, uids) as mine,
    ):
        with pipeline.unit_of_work(app) as (session, desk):
            known = _known_outcomes(session, inbox.key, validity, mine)
            for uid, outcome in known.items():
                _note_done(mailbox, done, uid, outcome)
            fetched = inbox.fetch_many([uid for uid in mine if uid not in known])
            mails = ((uid, raw) for uid, raw in fetched.items())
            for uid, parsed in app.parser.parse_ahead(mails, ahead=len(fetched) or 1):
                if stop is not None and stop.is_set():
                    stopped = True
                    break
                source = f"{source_prefix(mailbox)}{validity}:{uid}"
                receipt = receipt_writer(inbox.key, validity, uid)
                pending = Pending(fetched[uid], source, parsed, receipt, mailbox, uid)
                outcome = pipeline.process_in(session, app, desk, pending, app.clock())
                result.count(outcome)
                _note_done(mailbox, done, uid, outcome)
            if not mailbox.imap.processed_folder and done:
                last = max(max(v) for v in done.values())
                _advance_cursor(session, inbox.key, validity, last)
        for folder, handled in done.items():
            inbox.mark_done(handled, folder)
    return not stopped


def source_prefix(mailbox: MailboxConfig) -> str:
    """How the `source` of this mailbox's mail begins (messages and quarantine rows)."""
    return f"imap:{Inbox(mailbox.imap).key}#"


def mailbox_of(config: Config, source: str) -> MailboxConfig | None:
    """The configured mailbox a stored `source` came from (replay keeps its team and From)."""
    return next((m for m in config.mailboxes if source.startswith(source_prefix(m))), None)


def _note_done(
    mailbox: MailboxConfig, done: dict[str, list[int]], uid: int, outcome: Outcome
) -> None:
    imap = mailbox.imap
    folder = imap.quarantine_folder if outcome == Outcome.QUARANTINED else imap.processed_folder
    done.setdefault(folder, []).append(uid)


def _known_outcomes(
    session: Session, key: str, validity: int, uids: list[int]
) -> dict[int, Outcome]:
    """Receipts of mail already handled (a crash came between commit and move)."""
    if not uids:
        return {}
    query = select(Receipt.uid, Receipt.outcome).where(
        Receipt.mailbox == key, Receipt.uidvalidity == validity, Receipt.uid.in_(uids)
    )
    return {uid: Outcome(outcome) for uid, outcome in session.execute(query)}


def receipt_writer(key: str, validity: int, uid: int) -> pipeline.Bookkeeping:
    """The receipt of one mail, written in the transaction that stores the mail."""

    def record(session: Session, outcome: Outcome) -> None:
        row = {"mailbox": key, "uidvalidity": validity, "uid": uid, "outcome": outcome}
        execute(session, _INSERT_RECEIPT, row)

    return record


def _advance_cursor(session: Session, key: str, validity: int, uid: int) -> None:
    """Flag mode only: the folder keeps its mail, so the cursor says where new mail starts."""
    cursor = session.get(Cursor, key)
    if cursor is None:
        session.add(Cursor(mailbox=key, uidvalidity=validity, last_uid=uid))
    elif cursor.uidvalidity != validity or uid > cursor.last_uid:
        cursor.uidvalidity, cursor.last_uid = validity, uid


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
