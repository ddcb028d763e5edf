"""Send queued OutboxMail rows: claimed in batches, retries with backoff, never blocks intake.

A drain sends its batch over one SMTP connection (smtp.py: what a broken
connection means for the mail on it). A row is marked sent in its own
transaction right after the server accepted it; a failure records the error
and the time of the next attempt, growing exponentially, until
`max_attempts`, when the row is marked failed. The envelope is the row's list
of recipients exactly as notify queued it; its sender is the From address, or
with `bounces.return_path` that address signed for this row (verp.py), so that
only real reports can mark bounces. A certificate that does not verify is not
the mail's fault: it stops the drain and counts no attempt (`_hold`).
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from maildesk.app import App
from maildesk.config import OutboxConfig
from maildesk.errors import ConfigError, TemporaryFailure
from maildesk.mail import verp
from maildesk.store import db
from maildesk.store.db import transaction, unavailable_is_temporary
from maildesk.store.tables import OutboxMail, OutboxStatus
from maildesk.transport import smtp

log = logging.getLogger(__name__)


@dataclass
class DrainResult:
    sent: int = 0
    deferred: int = 0
    failed: int = 0


def backoff(config: OutboxConfig, attempts: int) -> timedelta:
    """Delay before attempt number `attempts + 1`: base · 2^(attempts-1), capped."""
    seconds = config.retry_base_seconds * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, config.retry_max_seconds))


async def drain(app: App, now: datetime | None = None) -> DrainResult:
    """Send every row that is due and this worker could claim; returns what happened."""
    server = app.config.smtp
    if server is None:
        raise ConfigError("smtp: section is missing; cannot send mail")
    now = now or app.clock()
    result = DrainResult()
    with unavailable_is_temporary():  # a locked or lost database: the next run sends
        connection = smtp.Connection(server, app.clock)  # opened by the first mail ours
        async with connection:
            for mail in _claim_due(app, now):
                if _still_ours(app, mail):
                    await _send_one(app, connection, mail, now, result)
    return result


@dataclass
class Claimed:
    """A row this worker holds until `until` (its next_attempt_at: the claim's token)."""

    id: int
    sender: str
    recipients: list[str]
    raw: bytes
    until: datetime


def _claim_due(app: App, now: datetime) -> list[Claimed]:
    """Take up to batch_size due rows for claim_seconds, in one transaction.

    FOR UPDATE SKIP LOCKED (PostgreSQL) lets several workers claim at once,
    each passing over the rows another is claiming; SQLite has one writer, so
    there the plain UPDATE is enough. A worker that dies mid-send leaves its
    rows claimed; they are due again when the claim runs out. The claim's
    end time is its token (`_still_ours`): a later claim always ends later.
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
        return [
            Claimed(r.id, r.sender, [x.address for x in r.recipients], r.raw, until) for r in rows
        ]


def _still_ours(app: App, mail: Claimed) -> bool:
    """Renew the claim just before sending; False when it ran out and another worker took it.

    A batch can take longer to send than one claim lasts (a slow server): the
    rows at its end are then due again, and another worker may have claimed
    them. Checking the token row by row keeps each mail with one sender.
    """
    until = app.clock() + timedelta(seconds=app.config.outbox.claim_seconds)
    with transaction(app.sessions, write=True) as session:
        renewed = db.execute(
            session,
            update(OutboxMail)
            .where(
                OutboxMail.id == mail.id,
                OutboxMail.status == OutboxStatus.PENDING,
                OutboxMail.next_attempt_at == mail.until,
            )
            .values(next_attempt_at=until),
        ).rowcount
    mail.until = until
    return bool(renewed)


async def _send_one(
    app: App, connection: smtp.Connection, mail: Claimed, now: datetime, result: DrainResult
) -> None:
    try:
        await connection.send(envelope_sender(app, mail), mail.recipients, mail.raw)
    except (ConfigError, TemporaryFailure) as exc:  # the server's or the token's, not the mail's
        _hold(app, mail.id, str(exc))
        raise
    except smtp.SendError as exc:
        _record_failure(app, mail.id, now, exc.reason, exc.permanent, result)
        return
    with transaction(app.sessions, write=True) as session:  # Core: a third of the ORM's cost
        db.execute(
            session,
            update(OutboxMail)
            .where(OutboxMail.id == mail.id)  # claimed by us; rows are never deleted
            .values(
                status=OutboxStatus.SENT,
                sent_at=now,
                attempts=OutboxMail.attempts + 1,
                last_error=None,
            ),
        )
    result.sent += 1


def envelope_sender(app: App, mail: Claimed) -> str:
    """The SMTP MAIL FROM of `mail`: its own signed return path when one is set."""
    return_path = app.config.bounces.return_path
    if return_path is None:
        return mail.sender
    return verp.envelope_sender(return_path, app.secret, mail.id, mail.recipients)


def _hold(app: App, row_id: int, error: str) -> None:
    """Our configuration failed (a refused certificate or token, a token endpoint that is
    down), not the mail: note why, count no attempt, and stop the drain. The rows it
    claimed wait out their claim (claim_seconds), so a misconfigured server is tried
    once per drain with due mail, not once per mail.
    """
    with transaction(app.sessions, write=True) as session:
        session.get_one(OutboxMail, row_id).last_error = error[:2000]


def _record_failure(
    app: App, row_id: int, now: datetime, error: str, permanent: bool, result: DrainResult
) -> None:
    config = app.config.outbox
    with transaction(app.sessions, write=True) as session:
        row = session.get_one(OutboxMail, row_id)
        row.attempts += 1
        row.last_error = error[:2000]
        if permanent or row.attempts >= config.max_attempts:
            row.status = OutboxStatus.FAILED
            result.failed += 1
            log.error(
                "giving up on outbox mail %s after %d attempts: %s", row_id, row.attempts, error
            )
        else:
            row.next_attempt_at = now + backoff(config, row.attempts)
            result.deferred += 1
            log.warning("outbox mail %s deferred (attempt %d): %s", row_id, row.attempts, error)
