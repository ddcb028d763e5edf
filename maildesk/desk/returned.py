"""Which mail of ours a bounce returns: named by its signed return path, or by a quoted id.

With `bounces.return_path` set, a report counts only when it came back to
that mail's own signed return path (verp.py): the token must check and name
an outbox mail of ours. Without it, the Message-ID the report quotes names
the mail, which anyone who saw the mail (a Cc) could quote too.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from maildesk.desk.context import Desk
from maildesk.mail import verp
from maildesk.mail.message import Incoming
from maildesk.store.db import execute
from maildesk.store.tables import OutboxMail, OutboxRecipient


@dataclass(frozen=True)
class Sent:
    """A mail of ours as it went out: its id, its ticket, its envelope in order."""

    message_id: str
    ticket_id: int | None
    recipients: tuple[str, ...]


@dataclass(frozen=True)
class Verdict:
    """What the return path of a bounce proves: the mail it returns, else why nothing."""

    sent: Sent | None
    why: str = ""


_ENVELOPE = (
    select(OutboxMail.message_id, OutboxMail.ticket_id, OutboxRecipient.address)
    .join(OutboxRecipient, OutboxRecipient.outbox_id == OutboxMail.id)
    .where(OutboxMail.id == bindparam("outbox_id"))
    .order_by(OutboxRecipient.position)
)
_BY_MESSAGE_ID = (
    select(OutboxMail.id)
    .where(OutboxMail.message_id.in_(bindparam("ids", expanding=True)))
    .order_by(OutboxMail.id.desc())
    .limit(1)
)


def by_return_path(session: Session, app: Desk, mail: Incoming) -> Verdict | None:
    """The mail of ours a report to our signed return path names; None without one set."""
    return_path = app.config.bounces.return_path
    if return_path is None:
        return None
    token = verp.found(return_path, verp.envelope_addresses(mail.headers))
    if token is None:
        return Verdict(None, f"it did not come back to a signed return path ({return_path})")
    sent = _outbox_mail(session, token.outbox_id)
    if sent is None or not verp.checks(app.keys, token, sent.recipients):
        return Verdict(None, "the token of its return path does not check")
    return Verdict(sent)


def by_message_ids(session: Session, ids: Sequence[str]) -> Sent | None:
    """The newest mail of ours among the Message-IDs `ids` (a report's quoted headers)."""
    if not ids:
        return None
    found = execute(session, _BY_MESSAGE_ID, {"ids": list(ids)}).scalar()
    return None if found is None else _outbox_mail(session, found)


def _outbox_mail(session: Session, outbox_id: int) -> Sent | None:
    rows = execute(session, _ENVELOPE, {"outbox_id": outbox_id}).all()
    if not rows:
        return None
    return Sent(rows[0].message_id, rows[0].ticket_id, tuple(row.address for row in rows))
