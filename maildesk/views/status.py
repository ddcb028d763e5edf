"""`status`: how the desk stands, for a person at a terminal (and `--json` for scripts).

The same figures feed `/metrics` and `/readyz` (views/health.py). Each
mailbox's last successful poll is read from the database (`mailbox_polls`,
written by every poll cycle that went through, mail or none), so it is the
last poll of any worker; a mailbox is late after LATE_INTERVALS poll
intervals without one.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from maildesk.config import MailboxConfig
from maildesk.store.deadline_tables import ClockState, SlaClock
from maildesk.store.intake_tables import MailboxPoll, Quarantine
from maildesk.store.tables import Status, Ticket
from maildesk.views import outbox

LATE_INTERVALS = 3  # polls missed in a row before a mailbox is late (and /readyz says 503)
_OPEN_CLOCK = SlaClock.state.in_([ClockState.RUNNING, ClockState.PAUSED])


def status(
    session: Session, now: datetime, mailboxes: Sequence[MailboxConfig] = ()
) -> dict[str, Any]:
    """The outbox, the tickets by status, the SLA clocks breached, the quarantine waiting
    for a replay, and the last successful poll of each of `mailboxes` (keys stable)."""
    by_status: dict[Any, int] = dict(
        session.execute(select(Ticket.status, func.count()).group_by(Ticket.status)).all()
    )
    breached = SlaClock.breached_at.is_not(None)
    waiting = Quarantine.replayed_at.is_(None)
    return {
        "at": now.isoformat(),
        "outbox": outbox.counts(session, now),
        "tickets": {str(s): by_status.get(str(s), 0) for s in Status},
        "sla_breached": {
            "open": session.scalar(select(func.count()).where(breached, _OPEN_CLOCK)),
            "total": session.scalar(select(func.count()).where(breached)),
        },
        "quarantined": session.scalar(select(func.count()).select_from(Quarantine).where(waiting)),
        "mailboxes": polls(session, now, mailboxes),
    }


def polls(
    session: Session, now: datetime, mailboxes: Sequence[MailboxConfig]
) -> list[dict[str, Any]]:
    """Each mailbox's last successful poll (None: never), how long ago, and if it is late."""
    names = [m.name for m in mailboxes]
    query = select(MailboxPoll.mailbox, MailboxPoll.polled_at).where(
        MailboxPoll.mailbox.in_(names)
    )
    last: dict[str, datetime] = dict(session.execute(query).all()) if names else {}
    found = []
    for mailbox in mailboxes:
        at = last.get(mailbox.name)
        ago = round((now - at).total_seconds()) if at else None
        late_after = LATE_INTERVALS * mailbox.imap.poll_interval
        found.append(
            {
                "name": mailbox.name,
                "last_poll_at": at.isoformat() if at else None,
                "last_poll_seconds": ago,
                "poll_interval": mailbox.imap.poll_interval,
                "late": ago is None or ago > late_after,
            }
        )
    return found
