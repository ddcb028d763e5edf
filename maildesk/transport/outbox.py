"""Send queued OutboxMail rows: claimed in batches, retries with backoff, never blocks intake.

A drain sends its batch over one SMTP connection (smtp.py: what a broken
connection means for the mail on it). A row is marked sent right after the
server accepted it, in the one transaction that also renews the claim on the
next row; a failure records the error and the time of the next attempt,
growing exponentially, until `max_attempts`, when the row is marked failed.
The envelope is the row's list of recipients exactly as notify queued it; its
sender is the From address, or with `bounces.return_path` that address signed
for this row (verp.py), so that only real reports can mark bounces. A
certificate that does not verify, or a refused login, is not the mail's fault:
it stops the drain and counts no attempt (`_hold`).
"""

import asyncio
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import selectinload

from maildesk.app import App
from maildesk.config import OutboxConfig, SmtpConfig
from maildesk.desk import failed_mail
from maildesk.errors import ConfigError, TemporaryFailure
from maildesk.mail import verp
from maildesk.mail.addresses import masked
from maildesk.store import db
from maildesk.store.db import transaction, unavailable_is_temporary
from maildesk.store.tables import OutboxMail, OutboxStatus
from maildesk.transport import smtp

log = logging.getLogger(__name__)

# Built once: constructing a statement costs more than running it (see bench/).
_OUTBOX = OutboxMail.__table__.c
_MARK_SENT = (
    update(OutboxMail.__table__)
    .where(_OUTBOX.id == bindparam("row"))
    .values(status=OutboxStatus.SENT, sent_at=bindparam("now"), attempts=_OUTBOX.attempts + 1)
    .values(last_error=None)
)
_RENEW = (
    update(OutboxMail.__table__)
    .where(_OUTBOX.id == bindparam("row"), _OUTBOX.status == OutboxStatus.PENDING)
    .where(_OUTBOX.next_attempt_at == bindparam("token"))
    .values(next_attempt_at=bindparam("until"))
)


@dataclass
class DrainResult:
    sent: int = 0
    deferred: int = 0
    failed: int = 0


def backoff(config: OutboxConfig, attempts: int) -> timedelta:
    """Delay before attempt number `attempts + 1`: base · 2^(attempts-1), capped."""
    seconds = config.retry_base_seconds * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, config.retry_max_seconds))


@dataclass
class Claimed:
    """A row this worker holds until `until` (its next_attempt_at: the claim's token)."""

    id: int
    sender: str
    recipients: list[str]
    raw: bytes
    until: datetime
    kind: str
    domains: str  # of the recipients, for the log: never their addresses
    attempt: int  # this send's number, counting the attempts before


async def drain(app: App, now: datetime | None = None) -> DrainResult:
    """Send every row that is due and this worker could claim; returns what happened.

    The batch is shared by `outbox.connections` SMTP connections, each taking
    the next mail when it is free: a send waits mostly on the server's replies,
    so a few connections at once multiply the rate (the database writes between
    them are short and one at a time).
    """
    server = app.config.smtp
    if server is None:
        raise ConfigError("smtp: section is missing; cannot send mail")
    now = now or app.clock()
    result, connections = DrainResult(), app.config.outbox.connections
    with unavailable_is_temporary():  # a locked or lost database: the next run sends
        _mark_accepted(app, now)
        queue = iter(_claim_due(app, now))
        senders = (_sender(app, server, queue, now, result) for _ in range(connections))
        # Each sender ends on its own (a refused certificate stops every one at its next
        # mail); the first failure is the drain's (a database's too, as DatabaseUnavailable).
        failures = [e for e in await asyncio.gather(*senders, return_exceptions=True) if e]
        if failures:
            raise failures[0]
    return result


async def _sender(
    app: App, server: SmtpConfig, queue: Iterator[Claimed], now: datetime, result: DrainResult
) -> None:
    """One connection's share of the batch: the next mail of `queue` while there is one."""
    sent: Claimed | None = None  # accepted by the server, its row not yet marked
    try:
        async with smtp.Connection(
            server, app.clock
        ) as connection:  # opened by the first mail ours
            for mail in queue:
                ours = _mark_and_renew(app, sent, mail, now)
                sent = None
                if ours:
                    sent = await _send_one(app, connection, mail, now, result)
    finally:
        try:
            _mark_and_renew(app, sent, None, now)
        except BaseException:
            if sent is not None:  # the server has it: the next drain marks it, never resends
                app.outbox_accepted.add(sent.id)
            raise


def _mark_accepted(app: App, now: datetime) -> None:
    """Mark the mails an earlier drain of this process had sent but could not mark (the
    database went away between the server's answer and the mark), before any claim."""
    if app.outbox_accepted:
        with transaction(app.sessions, write=True) as session:
            rows = [{"row": row, "now": now} for row in sorted(app.outbox_accepted)]
            db.execute(session, _MARK_SENT, rows)
        app.outbox_accepted.clear()


def _claim_due(app: App, now: datetime) -> list[Claimed]:
    """Take up to batch_size due rows for claim_seconds, in one transaction.

    FOR UPDATE SKIP LOCKED (PostgreSQL) lets several workers claim at once,
    each passing over the rows another is claiming; SQLite has one writer, so
    there the plain UPDATE is enough. A worker that dies mid-send leaves its
    rows claimed; they are due again when the claim runs out. The claim's
    end time is its token (`_mark_and_renew`): a later claim always ends later.
    """
    config = app.config.outbox
    until = now + timedelta(seconds=config.claim_seconds)
    with transaction(app.sessions, write=True) as session:
        ids = session.scalars(
            select(OutboxMail.id)
            .where(OutboxMail.status == OutboxStatus.PENDING, OutboxMail.next_attempt_at <= now)
            .order_by(OutboxMail.next_attempt_at, OutboxMail.id)
            .limit(config.batch_size)
            .with_for_update(skip_locked=True)
        ).all()
        if not ids:
            return []
        session.execute(
            update(OutboxMail).where(OutboxMail.id.in_(ids)).values(next_attempt_at=until)
        )
        rows = session.scalars(
            select(OutboxMail)
            .where(OutboxMail.id.in_(ids))
            .options(selectinload(OutboxMail.recipients))
            .order_by(OutboxMail.id)
        ).all()
        return [_claimed(row, until) for row in rows]


def _claimed(row: OutboxMail, until: datetime) -> Claimed:
    addresses = [x.address for x in row.recipients]
    domains = ",".join(sorted({x.domain for x in row.recipients}))
    return Claimed(
        row.id, row.sender, addresses, row.raw, until, row.kind, domains, row.attempts + 1
    )


def _mark_and_renew(app: App, sent: Claimed | None, mail: Claimed | None, now: datetime) -> bool:
    """Mark the mail just accepted as sent and renew the claim on the next, in one write.

    One transaction per mail, not two: the mark of the last mail rides on the
    claim of the next (a crash between the send and this commit sends that
    one mail again once its claim runs out, the window there always was).
    A batch can take longer to send than one claim lasts (a slow server): the
    rows at its end are then due again, and another worker may have claimed
    them. Checking the claim's token row by row keeps each mail with one
    sender; False when it ran out and another worker took `mail`.
    """
    if sent is None and mail is None:
        return False
    with transaction(app.sessions, write=True) as session:  # Core: a third of the ORM's cost
        if sent is not None:  # claimed by us; rows are never deleted
            db.execute(session, _MARK_SENT, {"row": sent.id, "now": now})
        if mail is None:
            return False
        until = app.clock() + timedelta(seconds=app.config.outbox.claim_seconds)
        token = {"row": mail.id, "token": mail.until, "until": until}
        renewed = db.execute(session, _RENEW, token).rowcount
    mail.until = until
    return bool(renewed)


async def _send_one(
    app: App, connection: smtp.Connection, mail: Claimed, now: datetime, result: DrainResult
) -> Claimed | None:
    """Send one claimed mail; returns it when the server accepted it (the caller marks it)."""
    try:
        await connection.send(envelope_sender(app, mail), mail.recipients, mail.raw)
    except (ConfigError, TemporaryFailure) as exc:  # the server's or the token's, not the mail's
        _hold(app, mail.id, str(exc))
        raise
    except smtp.SendError as exc:
        _record_failure(app, mail, now, exc.reason, exc.permanent, result)
        return None
    result.sent += 1
    _log_mail_out(mail, "sent", mail.attempt)
    return mail


def _log_mail_out(mail: Claimed, result: str, attempt: int, error: str | None = None) -> None:
    """The one log line of each delivery attempt (`event="mail_out"`, the README's "Logs");
    the server's reply keeps only the domains of the addresses it names."""
    fields = {
        "event": "mail_out",
        "outbox_id": mail.id,
        "kind": mail.kind,
        "domain": mail.domains,
        "result": result,
        "attempt": attempt,
    }
    if error is not None:
        fields["error"] = masked(error)
    level = {"sent": logging.INFO, "deferred": logging.WARNING}.get(result, logging.ERROR)
    log.log(level, "mail out", extra=fields)


def envelope_sender(app: App, mail: Claimed) -> str:
    """The SMTP MAIL FROM of `mail`: its own signed return path when one is set."""
    return_path = app.config.bounces.return_path
    if return_path is None:
        return mail.sender
    return verp.envelope_sender(return_path, app.keys, mail.id, mail.recipients)


def _hold(app: App, row_id: int, error: str) -> None:
    """Our configuration failed (a refused certificate, login or token, a token endpoint that is
    down), not the mail: note why, count no attempt, and stop the drain. The rows it
    claimed wait out their claim (claim_seconds), so a misconfigured server is tried
    once per drain with due mail, not once per mail.
    """
    with transaction(app.sessions, write=True) as session:
        session.get_one(OutboxMail, row_id).last_error = error[:2000]


def _record_failure(
    app: App, mail: Claimed, now: datetime, error: str, permanent: bool, result: DrainResult
) -> None:
    """Count the attempt; at the last one (or a 5xx) mark the row failed and tell the admins.

    The row is locked first, so when two workers hold it (a claim that ran out) only
    the one that moves it from pending to failed tells (failed_mail.py: once per failure).
    """
    config = app.config.outbox
    with transaction(app.sessions, write=True) as session:
        row = session.get_one(OutboxMail, mail.id, with_for_update=True)
        row.attempts += 1
        row.last_error = error[:2000]
        if permanent or row.attempts >= config.max_attempts:
            newly_failed = row.status == OutboxStatus.PENDING
            row.status = OutboxStatus.FAILED
            result.failed += 1
            _log_mail_out(mail, "failed", row.attempts, error)
            if newly_failed:
                failed_mail.tell_admins(session, app.desk(), row, now)
        else:
            row.next_attempt_at = now + backoff(config, row.attempts)
            result.deferred += 1
            _log_mail_out(mail, "deferred", row.attempts, error)
