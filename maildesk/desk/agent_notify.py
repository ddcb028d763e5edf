"""Agents hear of their tickets by mail: a new ticket, and every later customer message.

The notification goes to the assignee; to every member of the team while
nobody is assigned; to the leads when no team member would get it (the
standards: a lead routes what nobody takes). Each agent gets a mail of their
own, whose signed Message-ID is bound to them and to the ticket: replying to
it is how an agent answers the customer and sends commands (agent_mail.py).
It carries the customer's files, each no larger than intake keeps
(max_attachment_bytes) and MAX_ATTACHED_BYTES in all; the text names every
file, and those left out as not attached.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from maildesk.config import AgentConfig
from maildesk.desk import commands, held, routing, tickets
from maildesk.desk.batch import Batch
from maildesk.desk.context import Desk
from maildesk.desk.notify import Draft, attachment, queue_mail, ticket_context
from maildesk.mail import compose
from maildesk.mail.addresses import MAX_LENGTH
from maildesk.mail.message import Incoming, Part
from maildesk.mail.plaintext import NAME_LIMIT, SUBJECT_LIMIT, one_line
from maildesk.store.tables import Event, OutboxKind, Ticket

EARLIER_TICKETS = 5
MAX_ATTACHED_BYTES = 20 * 1024 * 1024  # per notification: what mail servers commonly take
NOT_ATTACHED = "(not attached: too large)"


def recipients(app: Desk, ticket: Ticket) -> tuple[tuple[AgentConfig, ...], bool]:
    """Who is told, and whether they are leads told because nobody else would be."""
    config = app.config
    assignee = config.agent(ticket.assignee) if ticket.assignee else None
    if assignee is not None:
        return (assignee,), False
    members = config.members(ticket.team)
    if members:
        return members, False
    return routing.leads(config, ticket.team), True


def queue_notifications(
    session: Session,
    app: Desk,
    ticket: Ticket,
    mail: Incoming,
    is_new: bool,
    now: datetime,
    uncopied: Sequence[str] = (),
    articles: Sequence[dict[str, Any]] = (),
) -> list[str | None]:
    """One notification per agent to tell, naming the mail's Cc's it did not copy on answers
    (copies.py) and the published `articles` that match it (suggestions.py); returns the
    Message-IDs (None for an agent's address we do not mail)."""
    agents, unrouted = recipients(app, ticket)
    if not agents:
        return []  # nobody to tell: no history read, nothing rendered
    attached, left_out = within_budget(
        mail.parts, app.config.intake.max_attachment_bytes, MAX_ATTACHED_BYTES
    )
    context = ticket_context(app, ticket, mail.from_name) | {
        "is_new": is_new,
        "unrouted": unrouted,
        "new_text": mail.new_text or mail.text,  # a mail all quote: its full text, never nothing
        "customer_address": one_line(mail.from_addr, NAME_LIMIT),
        "attachments": [
            _name(p) + (f" {NOT_ATTACHED}" if n in left_out else "")
            for n, p in enumerate(mail.parts)
        ],
        "earlier": _earlier_tickets(session, app.batch, ticket),
        "uncopied_cc": [one_line(address, MAX_LENGTH) for address in uncopied],
        "due_first_response": local_time(app, ticket.first_response_due),
        "due_resolution": local_time(app, ticket.resolution_due),
        "command_help": commands.HELP_LINE,
        "articles": list(articles),
    }
    queued = []
    for agent in agents:
        queued.append(
            mail_agent(
                session,
                app,
                ticket,
                agent,
                "agent_notification",
                context,
                now,
                answers=mail.message_id,
                attachments=attached,
            )
        )
    return queued


def local_time(app: Desk, at: datetime | None) -> str:
    """A due time as agents read it: the desk's time zone, to the minute ("" for none)."""
    return at.astimezone(app.config.desk.zone).strftime("%Y-%m-%d %H:%M %Z") if at else ""


def within_budget(
    parts: Sequence[Part], each: int, total: int
) -> tuple[tuple[compose.Attachment, ...], set[int]]:
    """The parts to attach, in order, and the positions of those left out: larger than
    `each`, or past `total` once the ones before them are counted."""
    attached, left_out, used = [], set(), 0
    for n, part in enumerate(parts):
        size = len(part.data)
        if size > each or used + size > total:
            left_out.add(n)
        else:
            attached.append(attachment(part))
            used += size
    return tuple(attached), left_out


def _name(part: Part) -> str:
    return one_line(part.filename or part.content_type, NAME_LIMIT)


def _earlier_tickets(session: Session, batch: Batch, ticket: Ticket) -> list[dict[str, Any]]:
    """The customer's other tickets, newest first: the history agents should see (read
    ahead for a batch's senders: read_ahead.py)."""
    if not ticket.customer:
        return []  # no customer address (tickets.open_ticket): no history to match
    known = (batch.customers or {}).get(ticket.customer)
    rows: list[tuple[int, str, str]]
    if known is not None:
        rows = [(t.number, t.subject, t.status) for t in known if t.id != ticket.id]
    else:
        query = (
            select(Ticket.number, Ticket.subject, Ticket.status)
            .where(Ticket.customer == ticket.customer, Ticket.id != ticket.id)
            .order_by(Ticket.id.desc())
            .limit(EARLIER_TICKETS)
        )
        rows = [(n, subject, status) for n, subject, status in session.execute(query)]
    return [
        {"number": n, "subject": one_line(subject, SUBJECT_LIMIT), "status": status}
        for n, subject, status in rows[:EARLIER_TICKETS]
    ]


REFUSAL_NOTICE = "agent_refusal_notice"
NOTICE_EVERY = timedelta(hours=1)


def refused(
    session: Session,
    app: Desk,
    ticket: Ticket,
    agent: AgentConfig,
    mail: Incoming,
    reason: str,
    now: datetime,
) -> None:
    """Note on the ticket why the mail is not the agent's; tell the real agent, once an hour."""
    detail = f"mail {mail.message_id} from {mail.from_addr} not applied: {reason}"
    tickets.record(session, app.batch, ticket, "agent_mail_refused", detail, mail.from_addr, now)
    since = now - NOTICE_EVERY
    told = [e for e in held.waiting(app.batch, "events") if e["kind"] == REFUSAL_NOTICE]
    if any(e["actor"] == agent.email and e["created_at"] > since for e in told):
        return  # told in this batch (its events are written at its end: held.py)
    recent = session.scalar(
        select(func.count(Event.id)).where(
            Event.kind == REFUSAL_NOTICE, Event.actor == agent.email, Event.created_at > since
        )
    )
    if recent:
        return
    context = ticket_context(app, ticket) | {"reason": reason}
    mail_agent(session, app, ticket, agent, "agent_refused", context, now)
    tickets.record(session, app.batch, ticket, REFUSAL_NOTICE, reason, agent.email, now)


def mail_agent(
    session: Session,
    app: Desk,
    ticket: Ticket,
    agent: AgentConfig,
    template: str,
    context: dict[str, Any],
    now: datetime,
    answers: str | None = None,
    attachments: tuple[compose.Attachment, ...] = (),
    kind: OutboxKind = OutboxKind.AGENT_NOTIFICATION,
) -> str | None:
    """One mail of the desk to one agent, bound to them: answering it proves the reply theirs.
    Returns the Message-ID, or None when the agent's address is not one we deliver to."""
    personal = context | {"agent_name": agent.name}
    rendered = app.templates.render(template, app.config.desk.default_locale, personal)
    draft = Draft(
        kind,
        (agent.email,),
        rendered.subject,
        rendered.text,
        answers,
        attachments=attachments,
        html=rendered.html,
    )
    return queue_mail(session, app, ticket, draft, now)
