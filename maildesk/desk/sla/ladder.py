"""One rung of the escalation ladder, fired: who is told, and what is done to the ticket.

Recipients come from the level's `notify`: `assignee` (else the leads, when
nobody has the ticket), `leads` (the team's, else the desk's), `team` (its
members), `escalation` (`sla.escalation_addresses`), or an address. Agents
get a mail bound to them, so that answering it works like any ticket mail;
other addresses get a plain one. Actions: raise the priority one step and
move to another team, after which the clocks are recomputed.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from maildesk.config import AgentConfig
from maildesk.config.service_levels import PRIORITIES, Level
from maildesk.desk import agent_notify, routing, tickets
from maildesk.desk.context import Desk
from maildesk.desk.notify import Draft, queue_mail, ticket_context
from maildesk.desk.sla import ledger
from maildesk.store.deadline_tables import SlaClock
from maildesk.store.tables import OutboxKind, Ticket

ACTOR = "maildesk-sla"
CLOCK_NAMES = {
    "first_response": ("first response", "首次响应"),
    "resolution": ("resolution", "解决"),
    "review": ("engineer review", "工程师审核"),
    "lead_answer": ("lead's answer", "负责人答复"),
    "assignment": ("assignment", "指派"),
}


@dataclass(frozen=True)
class Recipients:
    agents: tuple[AgentConfig, ...]
    addresses: tuple[str, ...]  # not agents of the desk

    @property
    def emails(self) -> list[str]:
        return [a.email for a in self.agents] + list(self.addresses)


def recipients(app: Desk, ticket: Ticket, level: Level) -> Recipients:
    """Who the level tells, each once, in the order the level names them."""
    config = app.config
    found: list[AgentConfig | str] = []
    for who in level.notify:
        if who == "assignee":
            assignee = config.agent(ticket.assignee) if ticket.assignee else None
            found += [assignee] if assignee else routing.leads(config, ticket.team)
        elif who == "leads":
            found += routing.leads(config, ticket.team)
        elif who == "team":
            found += config.members(ticket.team)
        elif who == "escalation":
            found += config.sla.escalation_addresses
        else:
            found.append(config.agent(who) or who)
    agents: dict[str, AgentConfig] = {}
    addresses: dict[str, str] = {}
    for item in found:
        if isinstance(item, str):
            addresses.setdefault(item.lower(), item)
        else:
            agents.setdefault(item.email.lower(), item)
    plain = tuple(a for key, a in addresses.items() if key not in agents)
    return Recipients(tuple(agents.values()), plain)


def fire(
    session: Session,
    app: Desk,
    ticket: Ticket,
    row: SlaClock,
    level: Level,
    at: datetime,
    now: datetime,
) -> bool:
    """Tell the level's people and take its actions; True when the ticket changed (the
    clocks were recomputed, so the caller must not fire more levels of the old run)."""
    late = (now - at).total_seconds() > app.config.sla.late_after
    people = recipients(app, ticket, level)
    detail = f"{level.share}% of {_minutes(row.target_seconds)}: " + (
        ", ".join(people.emails) or "nobody to tell"
    )
    ledger.log(session, app.batch, ticket, row, "level", now, detail, row.due_at, level.name, late)
    context = _context(app, ticket, row, level, now, late)
    for agent in people.agents:
        agent_notify.mail_agent(
            session, app, ticket, agent, "escalation", context, now, kind=OutboxKind.ESCALATION
        )
    for address in people.addresses:
        personal = context | {"agent_name": address}
        rendered = app.templates.render("escalation", app.config.desk.default_locale, personal)
        draft = Draft(
            OutboxKind.ESCALATION, (address,), rendered.subject, rendered.text, html=rendered.html
        )
        queue_mail(session, app, ticket, draft, now)
    return _act(session, app, ticket, level, now)


def _act(session: Session, app: Desk, ticket: Ticket, level: Level, now: datetime) -> bool:
    """Raise the priority and hand the ticket to another team, as the level says; the
    targets follow once (subscriptions.py). Returns whether anything changed."""
    values: dict[str, str | None] = {}
    if level.raise_priority and ticket.priority != PRIORITIES[0]:
        values["priority"] = PRIORITIES[PRIORITIES.index(ticket.priority) - 1]
    if level.reassign_team and ticket.team != level.reassign_team:
        values["team"] = level.reassign_team
    if not values:
        return False
    tickets.set_fields(session, app, ticket, values, ACTOR, now, f"level {level.name}")
    if "team" in values:
        agent = routing.pick_assignee(session, app, level.reassign_team)
        tickets.assign(session, app, ticket, agent.email if agent else None, ACTOR, now)
    return True


def _context(
    app: Desk, ticket: Ticket, row: SlaClock, level: Level, now: datetime, late: bool
) -> dict[str, Any]:
    due = row.due_at
    overdue = (now - due).total_seconds() if due and now > due else 0.0
    name_en, name_zh = CLOCK_NAMES[row.clock]
    return ticket_context(app, ticket) | {
        "level": level.name,
        "share": level.share,
        "warning": level.is_warning,
        "late": late,
        "clock": row.clock,
        "clock_name": name_en,
        "clock_name_zh": name_zh,
        "due": agent_notify.local_time(app, due),
        "overdue_minutes": round(overdue / 60),
        "left_minutes": round((due - now).total_seconds() / 60) if due and due > now else 0,
        "raise_priority": level.raise_priority,
        "reassign_team": level.reassign_team,
    }


def _minutes(seconds: float) -> str:
    return f"{round(seconds / 60)} min"
