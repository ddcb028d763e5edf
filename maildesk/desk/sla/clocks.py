"""A ticket's SLA clocks: started, paused, resumed, met, stopped, recomputed; each step a
row of the ledger (sla_events), the current due times in indexed columns.

Time is counted on the clock's calendar (working seconds, or wall seconds
for 24x7). A clock keeps the time it used before its current span
(`used_seconds`) and when that span began (`running_since`), so its due time
is the calendar's `add(running_since, target - used)`, and a pause or a
priority change never loses the time already used. Reopening starts a new
run of the resolution clock with the time used so far; ladder levels that
moment already passed are skipped, not fired late.
"""

from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from maildesk.config.service_levels import TARGET_CLOCKS, Level
from maildesk.desk.calendar import AROUND_THE_CLOCK, Clockwork
from maildesk.desk.context import Desk
from maildesk.desk.sla import ledger
from maildesk.store.db import execute
from maildesk.store.deadline_tables import ClockState, SlaClock
from maildesk.store.tables import Ticket

TWENTY_FOUR_SEVEN = AROUND_THE_CLOCK.name
_INSERT_CLOCKS = insert(SlaClock.__table__)
_COLUMNS = [c.key for c in SlaClock.__table__.columns if c.key != "id"]


def calendar_of(app: Desk, name: str) -> Clockwork:
    return AROUND_THE_CLOCK if name == TWENTY_FOUR_SEVEN else app.calendars[name]


def business_calendar(app: Desk, ticket: Ticket) -> Clockwork:
    """The working hours that apply to `ticket` (its policy's, its team's, the desk's)."""
    policy = app.config.sla.policy(ticket.priority, ticket.team)
    team = app.config.team(ticket.team)
    name = policy.calendar or (team.calendar if team else None) or "default"
    return app.calendars[name]


def target(app: Desk, ticket: Ticket, clock: str) -> tuple[float, str]:
    """(seconds, calendar name) of `clock` for the ticket as it is now."""
    sla = app.config.sla
    business = business_calendar(app, ticket)
    if clock in TARGET_CLOCKS:
        policy = sla.policy(ticket.priority, ticket.team)
        duration = policy.target(clock)
        working = duration.working or policy.business_hours
    else:
        duration = {"review": sla.review, "lead_answer": sla.lead_answer}.get(
            clock, sla.assignment
        )
        working = duration.working
    name = business.name if working else TWENTY_FOUR_SEVEN
    return duration.seconds(business.day_seconds), name


def open_ticket(session: Session, app: Desk, ticket: Ticket, now: datetime) -> None:
    """A new ticket's clocks: first response and resolution; review for P0/P1; and, when
    nobody was assigned, the time a lead has to route it. A new ticket has no clocks to
    look up, so they go in as one statement (intake opens a ticket per mail)."""
    names = list(TARGET_CLOCKS)
    if ticket.priority in app.config.sla.review_priorities:
        names.append("review")
    if ticket.assignee is None:
        names.append("assignment")
    rows = []
    for clock in names:
        seconds, calendar = target(app, ticket, clock)
        row = SlaClock(ticket_id=ticket.id, clock=clock, run=1, used_seconds=0.0)
        row.ladder_share, row.state, row.target_seconds = 0, ClockState.RUNNING, seconds
        row.calendar, row.running_since, row.breached_at = calendar, now, None
        schedule(app, ticket, row)
        ledger.log(session, app.batch, ticket, row, "started", now, _started(seconds, calendar))
        rows.append({name: getattr(row, name) for name in _COLUMNS})
    execute(session, _INSERT_CLOCKS, rows)


def start(session: Session, app: Desk, ticket: Ticket, clock: str, now: datetime) -> SlaClock:
    """Start `clock` (or, met or stopped before, run it again from zero)."""
    seconds, calendar = target(app, ticket, clock)
    row = clocks_of(session, ticket).get(clock)
    if row is None:
        row = SlaClock(ticket_id=ticket.id, clock=clock, run=1, used_seconds=0.0, ladder_share=0)
        session.add(row)
    elif row.state in (ClockState.RUNNING, ClockState.PAUSED):
        return row
    else:
        row.run += 1
        row.used_seconds = 0.0
        row.ladder_share = 0
    row.state, row.target_seconds, row.calendar = ClockState.RUNNING, seconds, calendar
    row.running_since, row.breached_at = now, None
    schedule(app, ticket, row)
    ledger.log(session, app.batch, ticket, row, "started", now, _started(seconds, calendar))
    return row


def pause(session: Session, app: Desk, ticket: Ticket, now: datetime) -> None:
    """Waiting on the customer: every running clock stops counting, keeping what it used."""
    for row in _with_state(session, ticket, ClockState.RUNNING):
        _close_span(app, row, now)
        row.state = ClockState.PAUSED
        row.due_at = row.next_at = None
        _mirror(ticket, row)
        ledger.log(session, app.batch, ticket, row, "paused", now)


def resume(session: Session, app: Desk, ticket: Ticket, now: datetime) -> None:
    for row in _with_state(session, ticket, ClockState.PAUSED):
        row.state, row.running_since = ClockState.RUNNING, now
        schedule(app, ticket, row)
        ledger.log(session, app.batch, ticket, row, "resumed", now)


def meet(
    session: Session, app: Desk, ticket: Ticket, clock: str, now: datetime, detail: str = ""
) -> None:
    """`clock` is met (an answer, a resolution, a review); met late when past its due time."""
    row = clocks_of(session, ticket).get(clock)
    if row is None or row.state not in (ClockState.RUNNING, ClockState.PAUSED):
        return
    if row.state == ClockState.RUNNING:
        _close_span(app, row, now)
    row.state, row.next_at = ClockState.MET, None
    if row.breached_at is None and row.used_seconds > row.target_seconds:
        row.breached_at = row.due_at or now
        ledger.log(
            session, app.batch, ticket, row, "breached", now, "met after its due time", row.due_at
        )
    ledger.log(session, app.batch, ticket, row, "met", now, detail, row.due_at)


def stop(session: Session, app: Desk, ticket: Ticket, now: datetime, why: str) -> None:
    """The ticket closed or merged: clocks not met stop, and nothing escalates."""
    for row in clocks_of(session, ticket).values():
        if row.state in (ClockState.RUNNING, ClockState.PAUSED):
            if row.state == ClockState.RUNNING:
                _close_span(app, row, now)
            row.state, row.next_at = ClockState.STOPPED, None
            ledger.log(session, app.batch, ticket, row, "stopped", now, why)


def reopen(session: Session, app: Desk, ticket: Ticket, now: datetime) -> None:
    """Resolution runs again with the time it used; first response stays as it was."""
    row = clocks_of(session, ticket).get("resolution")
    if row is None or row.state in (ClockState.RUNNING, ClockState.PAUSED):
        return
    row.run += 1
    row.state, row.running_since = ClockState.RUNNING, now
    row.breached_at = None
    row.ladder_share = _passed_share(app, ticket, row)
    schedule(app, ticket, row)
    ledger.log(
        session, app.batch, ticket, row, "restarted", now, f"used {_span(row.used_seconds)} before"
    )


def recompute(session: Session, app: Desk, ticket: Ticket, now: datetime, why: str) -> None:
    """New targets for the ticket as it is now (priority, team), from the ledger's spans.

    Each open clock starts a new run: levels already passed under the new
    target are skipped, so a raised priority escalates from here, not all at once.
    """
    spans = ledger.of_ticket(session, app.batch, ticket)
    for row in clocks_of(session, ticket).values():
        if row.state not in (ClockState.RUNNING, ClockState.PAUSED):
            continue
        row.target_seconds, row.calendar = target(app, ticket, row.clock)
        calendar = calendar_of(app, row.calendar)
        row.used_seconds = ledger.replay(spans.get(row.clock, []), calendar, now)
        if row.state == ClockState.RUNNING:
            row.running_since = now
        row.run += 1
        row.breached_at = None
        row.ladder_share = _passed_share(app, ticket, row)
        schedule(app, ticket, row)
        detail = f"{why}: target {_span(row.target_seconds)} on {row.calendar}, used " + _span(
            row.used_seconds
        )
        ledger.log(session, app.batch, ticket, row, "recomputed", now, detail, row.due_at)


def schedule(app: Desk, ticket: Ticket, row: SlaClock) -> None:
    """Due time and the next moment the sweep must look (the next level, or the breach)."""
    if row.state != ClockState.RUNNING:
        row.due_at = row.next_at = None
        _mirror(ticket, row)
        return
    calendar = calendar_of(app, row.calendar)
    row.due_at = moment(calendar, row, row.target_seconds)
    level = next_level(app, ticket, row)
    moments = [] if row.breached_at else [row.due_at]
    if level is not None:
        moments.append(level_moment(calendar, row, level))
    row.next_at = min(moments) if moments else None
    _mirror(ticket, row)


def next_level(app: Desk, ticket: Ticket, row: SlaClock) -> Level | None:
    levels = app.config.sla.levels(ticket.priority, row.clock)
    return next((lv for lv in levels if lv.share > row.ladder_share), None)


def level_moment(calendar: Clockwork, row: SlaClock, level: Level) -> datetime:
    return moment(calendar, row, row.target_seconds * level.share / 100)


def moment(calendar: Clockwork, row: SlaClock, used: float) -> datetime:
    """When a running clock will have used `used` seconds (its start, if it has already)."""
    return calendar.add(_running_since(row), max(used - row.used_seconds, 0.0))


def due(row: SlaClock) -> datetime:
    """A running clock's due time: schedule() gives one to every clock it finds running."""
    if row.due_at is None:
        raise ValueError(f"the {row.clock} clock of ticket {row.ticket_id} has no due time")
    return row.due_at


def _running_since(row: SlaClock) -> datetime:
    """When a running clock's current span began: every step that runs a clock sets it."""
    if row.running_since is None:
        raise ValueError(f"the {row.clock} clock of ticket {row.ticket_id} is not running")
    return row.running_since


def clocks_of(session: Session, ticket: Ticket) -> dict[str, SlaClock]:
    rows = session.scalars(select(SlaClock).where(SlaClock.ticket_id == ticket.id))
    return {row.clock: row for row in rows}


def _with_state(session: Session, ticket: Ticket, state: str) -> list[SlaClock]:
    return [row for row in clocks_of(session, ticket).values() if row.state == state]


def _close_span(app: Desk, row: SlaClock, now: datetime) -> None:
    calendar = calendar_of(app, row.calendar)
    row.used_seconds += calendar.working_seconds(_running_since(row), now)
    row.running_since = None


def _passed_share(app: Desk, ticket: Ticket, row: SlaClock) -> int:
    """The highest level share the clock's used time is already past (0 if none)."""
    used = 100 * row.used_seconds / row.target_seconds
    passed = [lv.share for lv in app.config.sla.levels(ticket.priority, row.clock)]
    return max((share for share in passed if share <= used), default=0)


def _mirror(ticket: Ticket, row: SlaClock) -> None:
    """The ticket's own due columns (tickets list/show, reports) follow its two clocks."""
    if row.clock == "first_response":
        ticket.first_response_due = row.due_at
    elif row.clock == "resolution":
        ticket.resolution_due = row.due_at


def _started(seconds: float, calendar: str) -> str:
    return f"target {_span(seconds)} on {calendar}"


def _span(seconds: float) -> str:
    minutes = round(seconds / 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m"
