"""A desk for SLA tests: mail in through intake, commands as agents give them, the sweep.

Time is the injected clock; T0 is Monday 2026-11-23 10:00 in Asia/Shanghai,
whose default calendar works Monday to Friday 09:00-18:00.
"""

from datetime import UTC, datetime
from email import message_from_bytes, policy
from itertools import count

from sqlalchemy import select

from maildesk.app import App
from maildesk.desk import actions, agent_reply, follow_up
from maildesk.desk.sla import sweep
from maildesk.intake import pipeline
from maildesk.store import blobs, db
from maildesk.store.deadline_tables import SlaClock, SlaEvent
from maildesk.store.tables import OutboxKind, OutboxMail, Ticket
from tests.conftest import make_mail
from tests.support import desk_toml

SLA = """
[sla]
escalation_addresses = ["duty@desk.example"]
{keys}

[[rules]]
name = "question"
subject_regex = "(?i)question"
priority = "P3"
"""
_sources = count(1)


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment of November 2026, in UTC (Shanghai is UTC+8)."""
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def sla_desk(make_app, extra: str = "", sla: str = "") -> App:
    """Lin and Wang in team support (round robin), lead Boss, duty@ on the ladder;
    `sla` are more keys of [sla], `extra` more tables."""
    return make_app(extra=desk_toml() + SLA.format(keys=sla) + extra)


def customer_writes(
    app: App,
    subject: str = "printer",
    at: datetime | None = None,
    attach: tuple[str, bytes] | None = None,
    **mail,
) -> int:
    """A customer's mail through intake, with the file `attach` (name, bytes) if given;
    returns its ticket's number."""
    written = make_mail(subject=subject, **mail)
    if attach is not None:
        name, data = attach
        written.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    pipeline.process(app, written.as_bytes(), f"test:{next(_sources)}", now=at)
    with db.transaction(app.sessions) as session:
        return session.scalar(select(Ticket.number).order_by(Ticket.id.desc()).limit(1))


def agent_does(app: App, number: int, text: str, agent: str = "lin@desk.example") -> None:
    """Commands as an agent's mail carries them (the code `tickets update` runs too)."""
    with db.transaction(app.sessions, write=True) as session:
        ticket = follow_up.by_number(session, number)
        actions.execute(session, app.desk(), ticket, text, agent, "<test>", app.clock())


def agent_answers(app: App, number: int, text: str, agent: str = "lin@desk.example") -> None:
    """An agent's proven reply, as intake hands it on (agent_reply.handle)."""
    raw = make_mail(sender=agent, subject=f"Re: [Ticket#{number}]", body=text).as_bytes()
    with db.transaction(app.sessions, write=True) as session:
        ticket = follow_up.by_number(session, number)
        blob = blobs.store(session, raw)
        mail = app.parser.parse(raw)
        who = app.config.agent(agent)
        agent_reply.handle(session, app.desk(), who, ticket, mail, blob, "<test>", app.clock())


def run_sweep(app: App) -> sweep.SweepResult:
    return sweep.sweep(app.sessions, app.desk(), app.clock())


def clock_of(app: App, number: int, name: str) -> SlaClock:
    with db.transaction(app.sessions) as session:
        ticket = follow_up.by_number(session, number)
        row = session.scalar(
            select(SlaClock).where(SlaClock.ticket_id == ticket.id, SlaClock.clock == name)
        )
        session.expunge(row)
        return row


def ledger(app: App, number: int, clock: str | None = None) -> list[tuple[str, str, str | None]]:
    """(clock, kind, level) of the ticket's SLA events, oldest first."""
    with db.transaction(app.sessions) as session:
        ticket = follow_up.by_number(session, number)
        query = select(SlaEvent).where(SlaEvent.ticket_id == ticket.id).order_by(SlaEvent.id)
        rows = session.scalars(query).all()
        return [(e.clock, e.kind, e.level) for e in rows if clock in (None, e.clock)]


def fired(app: App, number: int) -> list[tuple[str, str, bool]]:
    """(clock, level, late) of every ladder level fired on the ticket."""
    with db.transaction(app.sessions) as session:
        ticket = follow_up.by_number(session, number)
        rows = session.scalars(
            select(SlaEvent)
            .where(SlaEvent.ticket_id == ticket.id, SlaEvent.kind == "level")
            .order_by(SlaEvent.id)
        ).all()
        return [(e.clock, e.level, e.late) for e in rows]


def escalation_mails(app: App) -> list[tuple[list[str], object]]:
    """(envelope, parsed mail) of every escalation mail queued, oldest first."""
    with db.transaction(app.sessions) as session:
        query = select(OutboxMail).where(OutboxMail.kind == OutboxKind.ESCALATION)
        rows = session.scalars(query.order_by(OutboxMail.id)).all()
        return [([r.address for r in row.recipients], _parsed(row.raw)) for row in rows]


def _parsed(raw: bytes):
    return message_from_bytes(raw, policy=policy.default)


def ack_text(app: App, number: int) -> str:
    with db.transaction(app.sessions) as session:
        ticket = follow_up.by_number(session, number)
        raw = session.scalar(
            select(OutboxMail.raw).where(
                OutboxMail.ticket_id == ticket.id, OutboxMail.kind == OutboxKind.ACK
            )
        )
    return _parsed(raw).get_content()
