"""The desk's figures over a period, for `maildesk report`: one pure function of a session.

A period is [since, until) in local dates of the desk's time zone, over the tickets'
created_at (a ticket counts in the period it was opened, with all that happened to it
since); `team` keeps the tickets of one team. Automatic tickets count nowhere. Counts
are SQL GROUP BYs; medians and p90s are taken in Python from one row per ticket.

The dict (JSON-able; every key always present, null where there is nothing to measure):

- `desk`, `team`; `period`: {since, until (first day not counted), last_day, zone}
- `tickets`: {total, by_priority: {P0..P3: n}, per_day: [{date, total, by_priority}]},
  every day of the period, none left out
- `times`: {first_response, resolution}, each {overall: Stat, by_priority: {P0..P3: Stat
  + Target}}; Stat = {count, median_minutes, p90_minutes}, wall-clock minutes from
  created_at to first_response_at / to the resolution (resolved_at, or for a closed ticket
  its last move to resolved); Target = {target: "2h" | "8wh" ..., target_minutes (on its
  clock: working minutes when working_time), working_time}
- `sla`: {first_response, resolution}, each {P0..P3: {met, breached}}: breached when the
  clock's breached_at is set, met when it was met without breaching
- `escalations`: {level: n} ladder levels fired, the configured ladder's names first
- `csat`: {overall: Csat, by_agent: [Csat + agent], by_team: [Csat + team]}; Csat =
  {asked (sent, answered or expired), answered, average_rating, response_rate}
- `top_categories`: [{category, tickets}], `top_tags`: [{tag, tickets}], 10 at most, most first
- `reopen`: {resolved (ever), reopened, rate}; a reopened ticket was resolved before
- `self_service`, `articles_used`, `kb_gaps`: the knowledge base's (kb_report.py)
"""

from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from statistics import median, quantiles
from typing import Any, TypeAlias
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Row, and_, false, func, or_, select
from sqlalchemy.orm import Session

from maildesk.config import PRIORITIES
from maildesk.config.service_levels import TARGET_CLOCKS
from maildesk.desk import kb_report
from maildesk.desk.context import Desk
from maildesk.desk.sla import clocks
from maildesk.store.deadline_tables import ClockState, SlaClock, SlaEvent, Survey, SurveyState
from maildesk.store.tables import Event, Status, Ticket, TicketTag

TOP = 10
_ASKED = (SurveyState.SENT, SurveyState.ANSWERED, SurveyState.EXPIRED)
_RESOLVED_EVENT = and_(Event.kind == "status", Event.detail.like("% -> resolved"))
_REOPENED_EVENT = or_(
    Event.kind == "reopened",
    and_(Event.kind == "status", Event.detail.in_(("resolved -> open", "closed -> open"))),
)
# One ticket of figures(): id, priority, status, created_at, first_response_at, resolved_at.
# A string: SQLAlchemy 2.0's Row takes one type argument where 2.1's takes the columns'.
_TicketRow: TypeAlias = "Row[int, str, str, datetime, datetime | None, datetime | None]"


def figures(
    session: Session, desk: Desk, since: date, until: date, team: str | None = None
) -> dict[str, Any]:
    """All figures of the tickets opened in [since, until) (local dates), as a plain dict."""
    zone = desk.config.desk.zone
    scope = [
        Ticket.created_at >= datetime.combine(since, time(), zone),
        Ticket.created_at < datetime.combine(until, time(), zone),
        Ticket.automatic == false(),
    ] + ([Ticket.team == team] if team is not None else [])
    tickets = session.execute(
        select(
            Ticket.id,
            Ticket.priority,
            Ticket.status,
            Ticket.created_at,
            Ticket.first_response_at,
            Ticket.resolved_at,
        ).where(*scope)
    ).all()
    ids = select(Ticket.id).where(*scope)
    last_resolved = dict(
        session.execute(
            select(Event.ticket_id, func.max(Event.created_at))
            .where(Event.ticket_id.in_(ids), _RESOLVED_EVENT)
            .group_by(Event.ticket_id)
        ).all()
    )
    reopened = set(
        session.scalars(select(Event.ticket_id).where(Event.ticket_id.in_(ids), _REOPENED_EVENT))
    )
    ever_resolved = {t.id for t in tickets if t.resolved_at} | set(last_resolved) | reopened
    return {
        "desk": desk.config.desk.name,
        "team": team,
        "period": {
            "since": since.isoformat(),
            "until": until.isoformat(),
            "last_day": (until - timedelta(days=1)).isoformat(),
            "zone": desk.config.desk.timezone,
        },
        "tickets": _volume(tickets, zone, since, until),
        "times": {
            "first_response": _times(
                desk, team, "first_response", [(t, t.first_response_at) for t in tickets]
            ),
            "resolution": _times(
                desk, team, "resolution", [(t, _resolved_at(t, last_resolved)) for t in tickets]
            ),
        },
        "sla": _sla(session, scope),
        "escalations": _escalations(session, desk, scope),
        "csat": _csat(session, ids),
        "top_categories": _top(session, Ticket.category, "category", *scope),
        "top_tags": _top(session, TicketTag.tag, "tag", TicketTag.ticket_id.in_(ids)),
        "reopen": {
            "resolved": len(ever_resolved),
            "reopened": len(reopened),
            "rate": _share(len(reopened), len(ever_resolved)),
        },
        **kb_report.figures(session, ids),
    }


def _volume(
    tickets: Sequence[_TicketRow], zone: ZoneInfo, since: date, until: date
) -> dict[str, Any]:
    """Tickets per local day and priority, every day of the period (zeros too, for charts)."""
    per_day = Counter((t.created_at.astimezone(zone).date(), t.priority) for t in tickets)
    days = [since + timedelta(days=n) for n in range((until - since).days)]
    return {
        "total": len(tickets),
        "by_priority": {p: sum(per_day[d, p] for d in days) for p in PRIORITIES},
        "per_day": [
            {
                "date": day.isoformat(),
                "total": sum(per_day[day, p] for p in PRIORITIES),
                "by_priority": {p: per_day[day, p] for p in PRIORITIES},
            }
            for day in days
        ],
    }


def _resolved_at(ticket: _TicketRow, last_resolved: dict[int, datetime]) -> datetime | None:
    """When the ticket was resolved; closing clears resolved_at, so a closed ticket's
    resolution is its last move to resolved (none: it was closed unresolved)."""
    if ticket.resolved_at is not None or ticket.status != Status.CLOSED:
        return ticket.resolved_at
    return last_resolved.get(ticket.id)


def _times(
    desk: Desk, team: str | None, clock: str, done: list[tuple[_TicketRow, datetime | None]]
) -> dict[str, Any]:
    """Minutes from opening to `done` (the first response, the resolution), by priority."""
    minutes: dict[str, list[float]] = {p: [] for p in PRIORITIES}
    for ticket, at in done:
        if at is not None:
            minutes[ticket.priority].append((at - ticket.created_at).total_seconds() / 60)
    return {
        "overall": _stat([m for found in minutes.values() for m in found]),
        "by_priority": {p: _stat(minutes[p]) | _target(desk, p, team, clock) for p in PRIORITIES},
    }


def _stat(minutes: list[float]) -> dict[str, Any]:
    if not minutes:
        return {"count": 0, "median_minutes": None, "p90_minutes": None}
    p90 = quantiles(minutes, n=10, method="inclusive")[-1] if len(minutes) > 1 else minutes[0]
    return {
        "count": len(minutes),
        "median_minutes": round(median(minutes), 1),
        "p90_minutes": round(p90, 1),
    }


def _target(desk: Desk, priority: str, team: str | None, clock: str) -> dict[str, Any]:
    """The policy's target, measured as the SLA clocks measure it (clocks.target)."""
    seconds, calendar = clocks.target(desk, Ticket(priority=priority, team=team), clock)
    return {
        "target": desk.config.sla.policy(priority, team).target(clock).text,
        "target_minutes": round(seconds / 60, 1),
        "working_time": calendar != clocks.TWENTY_FOUR_SEVEN,
    }


def _sla(session: Session, scope: list[ColumnElement[bool]]) -> dict[str, Any]:
    breached = SlaClock.breached_at.is_not(None)
    met = and_(SlaClock.state == ClockState.MET, SlaClock.breached_at.is_(None))
    rows = session.execute(
        select(
            SlaClock.clock,
            Ticket.priority,
            func.count().filter(met),
            func.count().filter(breached),
        )
        .join(Ticket, Ticket.id == SlaClock.ticket_id)
        .where(*scope, SlaClock.clock.in_(TARGET_CLOCKS))
        .group_by(SlaClock.clock, Ticket.priority)
    ).all()
    found = {(clock, priority): (m, b) for clock, priority, m, b in rows}
    return {
        clock: {
            p: dict(zip(("met", "breached"), found.get((clock, p), (0, 0)), strict=True))
            for p in PRIORITIES
        }
        for clock in TARGET_CLOCKS
    }


def _escalations(session: Session, desk: Desk, scope: list[ColumnElement[bool]]) -> dict[str, int]:
    rows = session.execute(
        select(SlaEvent.level, func.count())
        .join(Ticket, Ticket.id == SlaEvent.ticket_id)
        .where(*scope, SlaEvent.kind == "level")
        .group_by(SlaEvent.level)
    ).all()
    found: dict[str, int] = {}
    for level, count in rows:
        if level is None:  # ladder.fire names the level of each "level" event it logs
            raise ValueError(f"{count} sla_events of kind 'level' name no level")
        found[level] = count
    ladder = list(dict.fromkeys(level.name for level in desk.config.sla.ladder))
    return {name: found.get(name, 0) for name in ladder + sorted(set(found) - set(ladder))}


def _csat(session: Session, ids: Any) -> dict[str, Any]:
    """Ratings and response rates of the surveys of the period's tickets."""
    measures = (
        func.count().filter(Survey.state.in_(_ASKED)),
        func.count().filter(Survey.state == SurveyState.ANSWERED),
        func.avg(Survey.rating).filter(Survey.state == SurveyState.ANSWERED),
    )
    of_period = Survey.ticket_id.in_(ids)

    def grouped(column: Any, name: str) -> list[dict[str, Any]]:
        query = select(column, *measures).where(of_period).group_by(column)
        rows = sorted(session.execute(query).all(), key=lambda r: (r[0] is None, r[0]))
        return [{name: key} | _rated(*rest) for key, *rest in rows]

    return {
        "overall": _rated(*session.execute(select(*measures).where(of_period)).one()),
        "by_agent": grouped(Survey.agent, "agent"),
        "by_team": grouped(Survey.team, "team"),
    }


def _rated(asked: int, answered: int, average: Any) -> dict[str, Any]:
    return {
        "asked": asked,
        "answered": answered,
        "average_rating": None if average is None else round(float(average), 2),
        "response_rate": _share(answered, asked),
    }


def _top(session: Session, column: Any, name: str, *where: Any) -> list[dict[str, Any]]:
    """The `TOP` most frequent values of `column` among the period's tickets."""
    count = func.count()
    query = select(column, count).where(column.is_not(None), *where).group_by(column)
    rows = session.execute(query.order_by(count.desc(), column).limit(TOP))
    return [{name: value, "tickets": n} for value, n in rows]


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None
