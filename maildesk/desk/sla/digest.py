"""The daily SLA digest: each agent's open tickets, soonest due first, and yesterday's breaches.

Off unless `sla.digest`; made on the first run at or after `sla.digest_hour`
in the desk's zone. The (agent, local date) row of sla_digests is claimed in
the transaction that queues the mail, so two daemons never both send it and
a crash before the commit leaves it to the next run.

`notify.queue_mail` needs a ticket (for the sender, the signed Message-ID,
the stored copy) and a digest is on none, so it is composed here and queued
with no ticket, under a plain Message-ID that threads to no ticket.
"""

from datetime import UTC, date, datetime, time, timedelta
from email.utils import format_datetime, make_msgid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from maildesk.config import AgentConfig
from maildesk.desk import loops
from maildesk.desk.context import Desk
from maildesk.desk.sla.ladder import CLOCK_NAMES
from maildesk.mail import compose
from maildesk.mail.classify import LOOP_HEADER
from maildesk.mail.plaintext import SUBJECT_LIMIT, one_line
from maildesk.store.db import InsertOrSkip, transaction
from maildesk.store.deadline_tables import DigestSent, SlaEvent
from maildesk.store.tables import (
    OutboxKind,
    OutboxMail,
    OutboxRecipient,
    OutboxStatus,
    Status,
    Ticket,
)

_OPEN = (Status.OPEN, Status.PENDING)
_LAST = datetime.max.replace(tzinfo=UTC)  # no due time: listed last
_CLAIM = InsertOrSkip(DigestSent.__table__, ["agent", "day"], returning=[DigestSent.agent])


def send_digests(sessions: sessionmaker[Session], app: Desk, now: datetime) -> int:
    """Queue today's digest of every agent who has not had it; returns the mails queued."""
    sla, local = app.config.sla, now.astimezone(app.config.desk.zone)
    if not sla.digest or local.hour < sla.digest_hour:
        return 0
    today = local.date()
    with transaction(sessions) as session:
        done = set(session.scalars(select(DigestSent.agent).where(DigestSent.day == today)))
    queued = 0
    for agent in (a for a in app.config.agents if a.email not in done):
        with transaction(sessions, write=True) as session:
            if _CLAIM(session, {"agent": agent.email, "day": today}).first() is None:
                continue  # another worker had it first
            queued += _digest(session, app.unit(), agent, today, now)
    return queued


def _digest(session: Session, app: Desk, agent: AgentConfig, today: date, now: datetime) -> int:
    """One agent's mail, or none when they have nothing open and no breach (1 or 0)."""
    mine = session.scalars(
        select(Ticket).where(Ticket.assignee == agent.email, Ticket.status.in_(_OPEN))
    )
    listed = sorted(((_next_due(t), t) for t in mine), key=lambda p: (p[0] or _LAST, p[1].number))
    context = {
        "desk_name": app.config.desk.name,
        "agent_name": agent.name,
        "day": today.isoformat(),
        "tickets": [
            _plain(app, t, due) | {"overdue": bool(due and due < now)} for due, t in listed
        ],
        "breaches": _breaches(session, app, agent.email, today),
    }
    if (not context["tickets"] and not context["breaches"]) or loops.undeliverable(agent.email):
        return 0  # nothing to tell, or an address no mail of ours goes to
    rendered = app.templates.render("digest", app.config.desk.default_locale, context)
    _queue(session, app, agent.email, rendered.subject, rendered.text, now)
    return 1


def _breaches(session: Session, app: Desk, email: str, today: date) -> list[dict[str, Any]]:
    """Breaches recorded yesterday (local date) on tickets the agent has now."""
    zone = app.config.desk.zone
    start, end = (datetime.combine(d, time(), zone) for d in (today - timedelta(days=1), today))
    rows = session.execute(
        select(SlaEvent, Ticket)
        .join(Ticket, Ticket.id == SlaEvent.ticket_id)
        .where(SlaEvent.kind == "breached", Ticket.assignee == email)
        .where(SlaEvent.at >= start, SlaEvent.at < end)
        .order_by(SlaEvent.at, SlaEvent.id)
    )
    return [
        _plain(app, t, e.due_at or e.at) | {"clock_names": CLOCK_NAMES[e.clock]} for e, t in rows
    ]


def _next_due(ticket: Ticket) -> datetime | None:
    """The earliest due time still to meet: a first response given is no longer due."""
    first = None if ticket.first_response_at else ticket.first_response_due
    return min((d for d in (first, ticket.resolution_due) if d), default=None)


def _plain(app: Desk, ticket: Ticket, due: datetime | None) -> dict[str, Any]:
    """Plain values for the sandbox, never the ORM object; `due` in local time."""
    return {
        "due": due.astimezone(app.config.desk.zone).strftime("%Y-%m-%d %H:%M") if due else "",
        "tag": app.tag.format(ticket.number),
        "priority": ticket.priority,
        "status": ticket.status,
        "subject": one_line(ticket.subject, SUBJECT_LIMIT),
    }


def _queue(session: Session, app: Desk, to: str, subject: str, text: str, now: datetime) -> None:
    """An automatic mail to one agent on no ticket, as notify composes its own."""
    sender = app.config.sender_for(None)
    message_id = make_msgid("digest", sender.rpartition("@")[2])
    headers = [
        ("From", compose.address(app.config.desk.name, sender)),
        ("To", to),
        ("Subject", one_line(subject, SUBJECT_LIMIT)),
        ("Date", format_datetime(now)),
        ("Message-ID", message_id),
        ("Auto-Submitted", "auto-generated"),
        ("Precedence", "bulk"),
        ("X-Auto-Response-Suppress", "All"),
        (LOOP_HEADER, app.config.desk.instance),
    ]
    mail = OutboxMail(
        kind=OutboxKind.AGENT_NOTIFICATION,
        message_id=message_id,
        sender=sender,
        raw=compose.text_mail(headers, text),
        status=OutboxStatus.PENDING,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
        recipients=[
            OutboxRecipient(**row)
            for row in loops.envelope(app.config.loops, OutboxKind.AGENT_NOTIFICATION, [to], now)
        ],
    )
    session.add(mail)
