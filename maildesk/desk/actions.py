"""Agents' commands applied to a ticket, all or nothing; `tickets update` runs the same code.

`commands.py` reads the lines; this checks what needs the desk (does the
agent or team exist) for every command first, and only then changes the
ticket, each change an Event naming who, from which Message-ID.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from maildesk.config import Config
from maildesk.desk import tickets
from maildesk.desk.commands import Command, CommandError
from maildesk.store.tables import Status, Ticket

# Parsed by commands.py, not applied yet: refused as a whole rather than half done.
NOT_YET = {"tag", "merge", "cc", "escalate"}


@dataclass(frozen=True)
class Change:
    """One checked change: what to set, and the command it came from."""

    field: str  # status | priority | team | assignee | resolution
    value: str | None
    command: Command


def plan(config: Config, actor_email: str, commands: tuple[Command, ...]) -> list[Change]:
    """Every change the commands make; raises CommandError on the first that cannot be made."""
    changes = []
    for command in commands:
        name, value = command.name, command.value
        if name in NOT_YET:
            raise CommandError(command.line, "not available yet", "暂不支持")
        if name == "status":
            changes.append(Change("status", value, command))
        elif name == "resolve":
            changes.append(Change("status", Status.RESOLVED, command))
            if value:
                changes.append(Change("resolution", value, command))
        elif name == "close":
            changes.append(Change("status", Status.CLOSED, command))
        elif name == "reopen":
            changes.append(Change("status", Status.OPEN, command))
        elif name == "priority":
            changes.append(Change("priority", value, command))
        elif name == "team":
            if config.team(value) is None:
                raise CommandError(
                    command.line, f"no team called {value!r}", f"没有名为 {value} 的团队"
                )
            changes.append(Change("team", value, command))
        elif name == "assign":
            changes.append(Change("assignee", _agent_email(config, actor_email, command), command))
    return changes


def _agent_email(config: Config, actor_email: str, command: Command) -> str:
    if command.value == "me":
        return actor_email
    wanted = command.value.lower()
    agent = config.agent(wanted) or next(
        (a for a in config.agents if a.name.lower() == wanted), None
    )
    if agent is None:
        raise CommandError(command.line, f"no agent called {command.value!r}", "没有这位客服")
    return agent.email


def apply(
    session: Session, ticket: Ticket, changes: list[Change], actor: str, now: datetime
) -> None:
    for change in changes:
        if change.field == "status":
            tickets.set_status(session, ticket, change.value, actor, now)
        elif change.field == "assignee":
            tickets.assign(session, ticket, change.value, actor, now)
        elif change.field == "resolution":
            ticket.resolution = change.value
            tickets.record(session, ticket, "resolution", change.value, actor, now)
        else:
            tickets.set_field(session, ticket, change.field, change.value, actor, now)
