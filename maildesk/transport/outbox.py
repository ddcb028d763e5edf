"""Send queued OutboxMail rows with aiosmtplib: retries with backoff, never blocks intake.

A row is marked sent in its own transaction right after the server accepted
it; a failure records the error and the time of the next attempt, growing
exponentially, until `max_attempts`, when the row is marked failed. The
envelope is the row's list of recipients exactly as notify queued it.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiosmtplib
from sqlalchemy import select, update

from maildesk.app import App
from maildesk.config import OutboxConfig, SmtpConfig
from maildesk.errors import ConfigError
from maildesk.store.db import transaction
from maildesk.store.tables import OutboxMail, OutboxStatus

log = logging.getLogger(__name__)
CLAIM_SECONDS = 300


@dataclass
class DrainResult:
    sent: int = 0
    deferred: int = 0
    failed: int = 0


def backoff(config: OutboxConfig, attempts: int) -> timedelta:
    """Delay before attempt number `attempts + 1`: base · 2^(attempts-1), capped."""
    seconds = config.retry_base_seconds * 2 ** max(attempts - 1, 0)
    return timedelta(seconds=min(seconds, config.retry_max_seconds))


async def send_raw(smtp: SmtpConfig, sender: str, recipients: list[str], raw: bytes) -> None:
    """Hand one message to the SMTP server; raises aiosmtplib/OS errors.

    An internationalised address needs SMTPUTF8 (a server without it refuses the mail).
    """
    ascii_only = sender.isascii() and all(r.isascii() for r in recipients)
    await aiosmtplib.send(
        raw,
        sender=sender,
        recipients=recipients,
        mail_options=None if ascii_only else ["SMTPUTF8"],
        hostname=smtp.host,
        port=smtp.port,
        use_tls=smtp.security == "ssl",
        start_tls=smtp.security == "starttls",
        username=smtp.username or None,
        password=smtp.password.value() if smtp.username else None,
        timeout=smtp.timeout,
    )


async def drain(app: App, now: datetime | None = None) -> DrainResult:
    """Send every row that is due; returns what happened."""
    smtp = app.config.smtp
    if smtp is None:
        raise ConfigError("smtp: section is missing; cannot send mail")
    now = now or app.clock()
    result = DrainResult()
    with transaction(app.sessions) as session:
        due = session.scalars(
            select(OutboxMail.id)
            .where(OutboxMail.status == OutboxStatus.PENDING, OutboxMail.next_attempt_at <= now)
            .order_by(OutboxMail.next_attempt_at, OutboxMail.id)
            .limit(app.config.outbox.batch_size)
        ).all()
    for row_id in due:
        await _send_one(app, smtp, row_id, now, result)
    return result


async def _send_one(
    app: App, smtp: SmtpConfig, row_id: int, now: datetime, result: DrainResult
) -> None:
    claimed = _claim(app, row_id, now)
    if claimed is None:
        return
    sender, recipients, raw = claimed
    try:
        await send_raw(smtp, sender, recipients, raw)
    except (aiosmtplib.SMTPException, OSError) as exc:
        _record_failure(
            app, row_id, now, f"{type(exc).__name__}: {exc}", _is_permanent(exc), result
        )
        return
    with transaction(app.sessions) as session:
        row = session.get(OutboxMail, row_id)
        row.status, row.sent_at, row.attempts = OutboxStatus.SENT, now, row.attempts + 1
        row.last_error = None
    result.sent += 1


def _claim(app: App, row_id: int, now: datetime) -> tuple[str, list[str], bytes] | None:
    """Take the row for CLAIM_SECONDS so no other worker sends it meanwhile.

    If this worker dies mid-send the row is due again when the claim runs out.
    """
    with transaction(app.sessions) as session:
        taken = session.execute(
            update(OutboxMail)
            .where(
                OutboxMail.id == row_id,
                OutboxMail.status == OutboxStatus.PENDING,
                OutboxMail.next_attempt_at <= now,
            )
            .values(next_attempt_at=now + timedelta(seconds=CLAIM_SECONDS))
        ).rowcount
        if not taken:
            return None
        row = session.get(OutboxMail, row_id)
        return row.sender, [r.address for r in row.recipients], row.raw


def _is_permanent(exc: Exception) -> bool:
    """A 5xx answer will not change on retry (unknown recipient, policy refusal)."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return all(r.code >= 500 for r in exc.recipients)
    return isinstance(exc, aiosmtplib.SMTPResponseException) and exc.code >= 500


def _record_failure(
    app: App, row_id: int, now: datetime, error: str, permanent: bool, result: DrainResult
) -> None:
    config = app.config.outbox
    with transaction(app.sessions) as session:
        row = session.get(OutboxMail, row_id)
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
