"""`status`: how the desk stands, for a person at a terminal (and `--json` for scripts).

The last successful poll per mailbox is not part of it: the database keeps no
time of a poll (the cursors hold UIDs only).
"""

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from maildesk.store.deadline_tables import ClockState, SlaClock
from maildesk.store.tables import Status, Ticket
from maildesk.views import outbox

_OPEN_CLOCK = SlaClock.state.in_([ClockState.RUNNING, ClockState.PAUSED])


def status(session: Session, now: datetime) -> dict[str, Any]:
    """The outbox, the tickets by status, and the SLA clocks breached (keys stable)."""
    by_status: dict[Any, int] = dict(
        session.execute(select(Ticket.status, func.count()).group_by(Ticket.status)).all()
    )
    breached = SlaClock.breached_at.is_not(None)
    return {
        "at": now.isoformat(),
        "outbox": outbox.counts(session, now),
        "tickets": {str(s): by_status.get(str(s), 0) for s in Status},
        "sla_breached": {
            "open": session.scalar(select(func.count()).where(breached, _OPEN_CLOCK)),
            "total": session.scalar(select(func.count()).where(breached)),
        },
    }
