"""Agents' commands applied to a ticket, all or nothing; `tickets update` runs the same code.

`commands.py` reads the lines; this checks what needs the desk (does the
agent or team exist) for every command first, and only then changes the
ticket, each change an Event naming who, from which Message-ID. A change the
change announces itself (tickets.py), and what follows it is the desk's
table of reactions (subscriptions.py).
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from maildesk.config import Config
from maildesk.desk import commands, follow_up, kb_mail, tickets
from maildesk.desk.commands import Command, CommandError, Parsed
from maildesk.desk.context import Desk
from maildesk.desk.events import Cause
from maildesk.desk.sla import react
from maildesk.store.kb_tables import Article
from maildesk.store.tables import Status, Ticket


@dataclass(frozen=True)
class Change:
    """One checked change: what to set, and the command it came from."""

    field: str  # status priority team assignee resolution closed_as tags merge cc escalate
    #             kb_draft kb_publish answer
    value: str
    command: Command
    text: str = ""  # what the change carries: a draft's body, an article's rendered text


@dataclass(frozen=True)
class Executed:
    """A reply's commands as applied, and the article `#answer` puts below its text."""

    parsed: Parsed
    answer: str = ""  # the article as the customer reads it, or ""
    article: Article | None = None


def plan(
    session: Session,
    config: Config,
    ticket: Ticket,
    actor_email: str,
    given: tuple[Command, ...],
    body: str = "",
) -> list[Change]:
    """Every change the commands make; raises CommandError on the first that cannot be made.
    `body` is the text below the commands (what `#kb` saves)."""
    changes = []
    internal = any(c.name == "note" for c in given)
    for command in given:
        name, value = command.name, command.value
        if name == "kb":
            field, value = kb_mail.check_kb(session, config, actor_email, command, body)
            changes.append(Change(field, value, command, body.strip()))
        elif name == "answer":
            article = kb_mail.check_answer(session, command, internal)
            changes.append(Change("answer", str(article.id), command))
        elif name == "escalate":
            if not react.escalation_leads(config, ticket, actor_email):
                raise CommandError(command.line, "no lead to escalate to", "没有可升级的负责人")
            changes.append(Change("escalate", value, command))
        elif name == "tag":
            changes.append(Change("tags", value, command))
        elif name == "cc":
            changes.append(Change("cc", value, command))
        elif name == "merge":
            changes.append(Change("merge", str(_survivor(session, ticket, command).id), command))
        elif name == "status":
            changes.append(Change("status", value, command))
        elif name == "resolve":
            changes.append(Change("status", Status.RESOLVED, command))
            if value:
                changes.append(Change("resolution", value, command))
        elif name == "close":
            changes.append(Change("status", Status.CLOSED, command))
            if value:
                changes.append(Change("closed_as", value, command))
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


def _survivor(session: Session, ticket: Ticket, command: Command) -> Ticket:
    """The ticket `#merge N` merges this one into: it must exist, be another, and live."""
    survivor = follow_up.by_number(session, int(command.value))
    if survivor is None:
        raise CommandError(command.line, f"no ticket {command.value}", f"没有工单 {command.value}")
    if survivor.id == ticket.id:
        raise CommandError(command.line, "a ticket cannot merge into itself", "不能合并到自身")
    if survivor.merged_into is not None:
        raise CommandError(command.line, "that ticket was merged itself", "该工单已被合并")
    return survivor


def _agent_email(config: Config, actor_email: str, command: Command) -> str:
    if command.value == "me":
        if config.agent(actor_email) is None:
            raise CommandError(command.line, "'me' needs an agent: name one", "请写明客服")
        return actor_email
    wanted = command.value.lower()
    agent = config.agent(wanted) or next(
        (a for a in config.agents if a.name.lower() == wanted), None
    )
    if agent is None:
        raise CommandError(command.line, f"no agent called {command.value!r}", "没有这位客服")
    return agent.email


def execute(
    session: Session, app: Desk, ticket: Ticket, text: str, actor: str, source: str, now: datetime
) -> Executed:
    """Parse, check and apply the command block of `text`; raises CommandError, changing
    nothing, when one line is wrong. `source` names where they came from (a Message-ID)."""
    parsed = commands.parse(text)
    changes = plan(session, app.config, ticket, actor, parsed.commands, parsed.body)
    answer = next((c for c in changes if c.field == "answer"), None)
    article = None if answer is None else session.get_one(Article, int(answer.value))
    shown = (
        ""
        if article is None or answer is None
        else kb_mail.answer_text(app, ticket, article, answer.command)
    )
    if parsed.commands:
        lines = "; ".join(c.line.strip() for c in parsed.commands)
        tickets.record(
            session, app.batch, ticket, "commands", f"{lines} (from {source})", actor, now
        )
    apply(session, app, ticket, changes, actor, now)
    if parsed.internal:
        tickets.record(session, app.batch, ticket, "note", parsed.body.strip(), actor, now)
    return Executed(parsed, shown, article)


def apply(
    session: Session, app: Desk, ticket: Ticket, changes: list[Change], actor: str, now: datetime
) -> None:
    """Make the checked changes; resolution first, so a status update can quote it, and a
    draft last, so it takes the tags and category the same reply gave."""
    for change in sorted(changes, key=lambda c: (c.field != "resolution", c.field == "kb_draft")):
        if change.field == "status":
            tickets.set_status(session, app, ticket, change.value, actor, now, Cause.AGENT)
        elif change.field == "assignee":
            tickets.assign(session, app, ticket, change.value, actor, now)
        elif change.field == "closed_as":
            tickets.record(session, app.batch, ticket, "closed_as", change.value, actor, now)
        elif change.field == "resolution":
            ticket.resolution = change.value
            tickets.record(session, app.batch, ticket, "resolution", change.value, actor, now)
        elif change.field == "escalate":
            react.escalation_requested(session, app, ticket, actor, change.value, now)
        elif change.field == "cc":
            tickets.copy_on_answers(session, app.batch, ticket, change.value)
            tickets.record(session, app.batch, ticket, "cc", change.value, actor, now)
        elif change.field == "tags":
            tickets.tag(session, app.batch, ticket, change.value.split(), actor, now)
        elif change.field == "merge":
            survivor = session.get_one(Ticket, int(change.value))  # plan() found it
            tickets.merge(session, app, ticket, survivor, actor, now)
        elif change.field == "kb_draft":
            kb_mail.save_draft(session, app, ticket, change.value, change.text, actor, now)
        elif change.field == "kb_publish":
            kb_mail.publish(session, app.batch, ticket, int(change.value), actor, now)
        elif change.field == "answer":
            continue  # agent_reply.py sends the article with the answer
        else:
            tickets.set_fields(session, app, ticket, {change.field: change.value}, actor, now)
