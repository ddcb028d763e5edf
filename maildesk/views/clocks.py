"""The SLA part of `tickets show`: each clock, the pauses, the ladder levels fired."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from maildesk.store.deadline_tables import SlaClock, SlaEvent
from maildesk.store.tables import Ticket


def ticket_sla(session: Session, ticket: Ticket) -> dict[str, Any]:
    clocks = session.scalars(
        select(SlaClock).where(SlaClock.ticket_id == ticket.id).order_by(SlaClock.id)
    ).all()
    ledger = session.scalars(
        select(SlaEvent).where(SlaEvent.ticket_id == ticket.id).order_by(SlaEvent.id)
    ).all()
    return {
        "sla": [_clock(row) for row in clocks],
        "pauses": _pauses(ledger),
        "levels_fired": [
            {
                "clock": e.clock,
                "run": e.run,
                "level": e.level,
                "at": e.at.isoformat(),
                "late": e.late,
                "detail": e.detail,
            }
            for e in ledger
            if e.kind == "level"
        ],
        "sla_ledger": [
            {
                "clock": e.clock,
                "run": e.run,
                "kind": e.kind,
                "level": e.level,
                "at": e.at.isoformat(),
                "detail": e.detail,
            }
            for e in ledger
        ],
    }


def _clock(row: SlaClock) -> dict[str, Any]:
    return {
        "clock": row.clock,
        "state": row.state,
        "run": row.run,
        "target_minutes": round(row.target_seconds / 60, 1),
        "calendar": row.calendar,
        "used_minutes": round(row.used_seconds / 60, 1),
        "due": row.due_at.isoformat() if row.due_at else None,
        "breached_at": row.breached_at.isoformat() if row.breached_at else None,
    }


def _pauses(ledger: Sequence[SlaEvent]) -> list[dict[str, str | None]]:
    """Waiting on the customer, from-until (until None: paused now); one entry per pause,
    which every clock of the ticket records at the same moment."""
    pauses: list[dict[str, str | None]] = []
    for event in ledger:
        if event.kind == "paused" and (not pauses or pauses[-1]["until"] is not None):
            if not pauses or pauses[-1]["from"] != event.at.isoformat():
                pauses.append({"from": event.at.isoformat(), "until": None})
        elif event.kind == "resumed" and pauses and pauses[-1]["until"] is None:
            pauses[-1]["until"] = event.at.isoformat()
    return pauses
