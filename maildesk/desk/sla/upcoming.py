"""`sla upcoming`: what will warn, breach or escalate in the next hours, and to whom.

A dry run: it reads the clocks and the ladder as the sweep would, and
changes and sends nothing. It assumes no one acts meanwhile, and does not
follow a level's actions (a raised priority would bring the later levels
sooner).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from maildesk.desk.context import Desk
from maildesk.desk.sla import clocks, ladder
from maildesk.store.deadline_tables import ClockState, SlaClock
from maildesk.store.tables import Ticket

BREACH = "breach"  # the level name of a breach no ladder level marks


@dataclass(frozen=True)
class Upcoming:
    number: int
    priority: str
    clock: str
    level: str
    at: datetime
    recipients: tuple[str, ...]
    overdue: bool  # its moment has passed already: the next sweep fires it

    def as_json(self) -> dict:
        return {
            "number": self.number,
            "priority": self.priority,
            "clock": self.clock,
            "level": self.level,
            "at": self.at.isoformat(),
            "recipients": list(self.recipients),
            "overdue": self.overdue,
        }


def upcoming(session: Session, app: Desk, now: datetime, hours: float) -> list[Upcoming]:
    """Every level and breach due before now + `hours`, soonest first."""
    until = now + timedelta(hours=hours)
    rows = session.execute(
        select(SlaClock, Ticket)
        .join(Ticket, Ticket.id == SlaClock.ticket_id)
        .where(SlaClock.state == ClockState.RUNNING, SlaClock.next_at <= until)
        .order_by(SlaClock.next_at)
    ).all()
    found: list[Upcoming] = []
    for row, ticket in rows:
        found += _of_clock(app, ticket, row, now, until)
    return sorted(found, key=lambda u: (u.at, u.number, u.clock))


def _of_clock(
    app: Desk, ticket: Ticket, row: SlaClock, now: datetime, until: datetime
) -> list[Upcoming]:
    calendar = clocks.calendar_of(app, row.calendar)
    due = clocks.due(row)
    levels = app.config.sla.levels(ticket.priority, row.clock)
    found = []
    unmarked = not any(lv.share == 100 for lv in levels)
    if row.breached_at is None and unmarked and due <= until:
        found.append(_entry(ticket, row, BREACH, due, (), now))
    breached = row.breached_at is not None
    for level in levels:
        if level.share <= row.ladder_share:
            continue
        at = clocks.level_moment(calendar, row, level)
        if at > until:
            break
        if level.is_warning and (breached or at >= due):
            continue
        people = ladder.recipients(app, ticket, level).emails
        found.append(_entry(ticket, row, level.name, at, tuple(people), now))
        breached = breached or level.share >= 100
    return found


def _entry(
    ticket: Ticket, row: SlaClock, level: str, at: datetime, people: tuple[str, ...], now: datetime
) -> Upcoming:
    return Upcoming(ticket.number, ticket.priority, row.clock, level, at, people, at <= now)
