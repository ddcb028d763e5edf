"""The steps one incoming mail runs through, in order: the STEPS tuple.

Each step reads and sets fields of one typed `Intake` (state.py), and says so in its
docstring. pipeline.py runs them in a savepoint per mail; a step raises
`Discard` to stop on purpose (a duplicate), or sets `finished` when it
handled the mail completely (an agent's reply).
"""

from dataclasses import replace

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from maildesk.desk import (
    agent_reply,
    copies,
    follow_up,
    held,
    messages,
    proof,
    returned,
    routing,
    rules,
    tickets,
)
from maildesk.desk.context import Desk
from maildesk.errors import Discard
from maildesk.intake.reactions import (
    clear_bouncing,
    find_articles,
    hear_escalation_request,
    note_bounce,
    note_refusal,
    notify_agents,
    queue_ack,
    reopen_resolved,
    take_self_service,
    take_survey_answer,
)
from maildesk.intake.state import Intake, Step
from maildesk.mail.classify import MailClass, classify
from maildesk.mail.language import detect_locale
from maildesk.mail.plaintext import NAME_LIMIT, one_line
from maildesk.sandbox.worker import Unparseable
from maildesk.store import blobs
from maildesk.store.db import execute
from maildesk.store.tables import Direction, Message, Status, Ticket


def store_raw(ctx: Intake, app: Desk, session: Session) -> None:
    """Sets raw_id: the raw bytes, stored before anything can go wrong with them (a
    batch stores all of its mails' at once: pipeline.py)."""
    stored = ctx.raw_stored
    ctx.raw_id = stored if stored is not None else blobs.store(session, ctx.raw)


def parse_mail(ctx: Intake, app: Desk, session: Session) -> None:
    """Sets mail: what the budgeted child parsed (sandbox/worker.py; pipeline.py asks it).

    Raises Unparseable, with the reason, for a mail that is too large, broken
    or over its parse budget.
    """
    if isinstance(ctx.parsed, Unparseable):
        raise ctx.parsed
    if ctx.parsed is None:
        raise LookupError("intake has no parse: pipeline.py asks the parser first")
    ctx.mail = ctx.parsed


# Built once: constructing a statement costs more than running it (see bench/).
_STORED_BY_ID = (
    select(Message.id)
    .where(Message.direction == Direction.IN, Message.message_id == bindparam("key"))
    .limit(1)
)
_STORED_BY_BYTES = (
    select(Message.id)
    .where(Message.direction == Direction.IN, Message.raw_id == bindparam("key"))
    .limit(1)
)


def skip_duplicate(ctx: Intake, app: Desk, session: Session) -> None:
    """Raises Discard when this Message-ID (or, lacking one, these bytes) was stored; the
    batch read whether its mails' ids were (read_ahead.py), and notes those it stores."""
    incoming = app.batch.incoming or {}
    if ctx.mail.message_id in incoming:
        found = incoming[ctx.mail.message_id] or None
    elif ctx.mail.message_id:
        found = execute(session, _STORED_BY_ID, {"key": ctx.mail.message_id}).scalar()
    else:
        found = execute(session, _STORED_BY_BYTES, {"key": ctx.raw_id}).scalar()
    if found is not None:
        raise Discard(f"duplicate of a stored message ({ctx.mail.message_id or 'same bytes'})")


def classify_mail(ctx: Intake, app: Desk, session: Session) -> None:
    """Sets mail_class: human, auto_reply, bounce, list or own_loop."""
    config = app.config
    ctx.mail_class = classify(ctx.mail, config.desk.instance, app.keys, config.bounces.return_path)


def recognise_agent(ctx: Intake, app: Desk, session: Session) -> None:
    """Sets claimed: the agent the From names; agent and found for a proven agent's reply
    (its proof spent); refusal for one not proven (it then threads like anyone's mail)."""
    agent = ctx.claimed = app.config.agent(ctx.mail.from_addr)
    if agent is None or ctx.mail_class is not MailClass.HUMAN:
        return
    held.flush(session, app.batch)  # the proof and the reply read what the batch sent
    verdict = proof.check(session, app.config.agent_mail, app.keys, agent, ctx.mail, ctx.now)
    if verdict.refusal is None:
        ctx.agent, ctx.found = agent, verdict.ticket
    else:
        ctx.refusal = verdict.refusal


def handle_agent_reply(ctx: Intake, app: Desk, session: Session) -> None:
    """Sets finished: a proven reply is applied and relayed here, not stored as a customer's."""
    if ctx.agent is None or ctx.found is None:
        return
    agent_reply.handle(
        session, app, ctx.agent, ctx.found, ctx.mail, ctx.raw_id, ctx.source, ctx.now
    )
    ctx.finished = True


def find_ticket(ctx: Intake, app: Desk, session: Session) -> None:
    """Sets found when the mail continues a ticket (headers, then tag with sender check);
    for a bounce, returns: what its return path proves, and the ticket of the mail it names."""
    if ctx.mail_class is MailClass.BOUNCE:
        held.flush(session, app.batch)  # the mail it returns may be the batch's
        ctx.returns = returned.by_return_path(session, app, ctx.mail)
    sent = ctx.returns.sent if ctx.returns else None
    found = session.get(Ticket, sent.ticket_id) if sent and sent.ticket_id else None
    found = found or follow_up.find_ticket(
        session, app.batch, ctx.mail, ctx.mail_class, app.tag, app.keys
    )
    ctx.found = follow_up.surviving(session, found) if found is not None else None
    closed = ctx.found is not None and ctx.found.status == Status.CLOSED
    if closed and ctx.mail_class is MailClass.HUMAN:  # a person writes again: a new ticket
        ctx.follows, ctx.found = ctx.found, None


def open_ticket(ctx: Intake, app: Desk, session: Session) -> None:
    """Sets ticket: the one found, else a new one (is_new); rules apply here only."""
    if ctx.found is not None:
        ctx.ticket = ctx.found
        return
    automatic = ctx.mail_class is not MailClass.HUMAN
    found = rules.AUTOMATIC if automatic else rules.classify_ticket(app.config.rules, ctx.mail)
    if not automatic:
        team = routing.team_for(app.config, found.team, ctx.mail, ctx.mailbox)
        found = replace(found, team=team)
    text = f"{ctx.mail.subject}\n{ctx.mail.text}"
    locale = detect_locale(text, app.config.desk.default_locale)
    mailbox = ctx.mailbox.name if ctx.mailbox else None
    agent = None if automatic else routing.pick_assignee(session, app, found.team)
    ctx.ticket = tickets.open_ticket(
        session,
        app,
        ctx.mail,
        found,
        locale,
        ctx.now,
        automatic=automatic,
        mailbox=mailbox,
        follows=ctx.follows,
        assignee=agent.email if agent else None,
    )
    ctx.is_new = True


def store_message(ctx: Intake, app: Desk, session: Session) -> None:
    """Sets stored: the mail on its ticket; uncopied: a person's Cc's it may not copy."""
    ctx.stored = messages.add_incoming(
        session, app.batch, ctx.ticket, ctx.mail, ctx.mail_class, ctx.raw_id, ctx.source, ctx.now
    )
    if ctx.mail_class is MailClass.HUMAN:
        ctx.uncopied = copies.record(session, app, ctx.ticket, ctx.mail, ctx.now)


def store_attachments(ctx: Intake, app: Desk, session: Session) -> None:
    """Sets rejected: the parts over the size limit, named on the ticket but not kept."""
    limit = app.config.intake.max_attachment_bytes
    for part in ctx.mail.parts:
        kept = blobs.store(session, part.data) if len(part.data) <= limit else None
        if kept is None:
            ctx.rejected.append(one_line(part.filename or part.content_type, NAME_LIMIT))
        messages.add_attachment(session, ctx.stored, part, kept)
    if ctx.rejected:
        names, sender = ", ".join(ctx.rejected), ctx.mail.from_addr
        tickets.record(
            session, app.batch, ctx.ticket, "attachment_rejected", names, sender, ctx.now
        )


STEPS: tuple[Step, ...] = (
    store_raw,
    parse_mail,
    skip_duplicate,
    classify_mail,
    recognise_agent,
    handle_agent_reply,
    find_ticket,
    open_ticket,
    store_message,
    store_attachments,
    note_bounce,
    clear_bouncing,
    take_survey_answer,
    take_self_service,
    reopen_resolved,
    hear_escalation_request,
    note_refusal,
    find_articles,
    queue_ack,
    notify_agents,
)
