"""The steps that follow once a mail is on its ticket: what it sets off.

Bounces noted, survey answers kept, a customer's "solved" to the articles
suggested taken, resolved tickets reopened, escalation requests heard,
refusals told, the matching articles found, the acknowledgement queued (with
them), agents notified (naming them); steps.py lists them in order after the
steps that store the mail.
"""

from sqlalchemy.orm import Session

from maildesk.desk import (
    agent_notify,
    bounces,
    notice_cap,
    notify,
    self_service,
    suggestions,
    tickets,
)
from maildesk.desk.context import Desk
from maildesk.desk.events import Cause
from maildesk.desk.sla import promise, react
from maildesk.desk.survey import answers, lifecycle
from maildesk.intake.state import Intake
from maildesk.mail.classify import MailClass
from maildesk.mail.plaintext import NAME_LIMIT, one_line
from maildesk.store.tables import Status


def note_bounce(ctx: Intake, app: Desk, session: Session) -> None:
    """A bounce on a ticket: note who did not get our mail and stop writing to them."""
    if ctx.mail_class is MailClass.BOUNCE and not ctx.is_new:
        bounces.record(session, app.batch, ctx.ticket, ctx.mail, ctx.returns, ctx.now)


def clear_bouncing(ctx: Intake, app: Desk, session: Session) -> None:
    """A person writing from a bouncing address proves it works again."""
    if ctx.mail_class is MailClass.HUMAN:
        bounces.clear(session, app.batch, ctx.ticket, ctx.mail.from_addr, ctx.now)


def take_survey_answer(ctx: Intake, app: Desk, session: Session) -> None:
    """Sets rated: the customer's reply to the survey ("5", "满意", "not solved") is kept
    as their rating; "not solved" reopens the ticket (survey/lifecycle.py)."""
    if (
        ctx.is_new
        or ctx.mail_class is not MailClass.HUMAN
        or ctx.mail.from_addr != ctx.ticket.customer
    ):
        return
    survey = lifecycle.open_survey(session, ctx.ticket)
    answer = answers.parse(ctx.mail.new_text) if survey is not None else None
    if survey is not None and answer is not None:
        lifecycle.record(session, app, ctx.ticket, survey, answer, ctx.now)
        ctx.rated = True


def take_self_service(ctx: Intake, app: Desk, session: Session) -> None:
    """Sets self_served: the customer's "solved" / "已解决" to the articles their
    acknowledgement suggested resolves the ticket without an agent (self_service.py)."""
    if (
        ctx.is_new
        or ctx.mail_class is not MailClass.HUMAN
        or ctx.rated
        or ctx.mail.from_addr != ctx.ticket.customer
    ):
        return
    ctx.self_served = self_service.take(session, app, ctx.ticket, ctx.mail.new_text, ctx.now)


def reopen_resolved(ctx: Intake, app: Desk, session: Session) -> None:
    """A customer's human follow-up reopens a resolved ticket, and ends the wait of a
    pending one (its SLA clocks run again); automatic mail never does either, nor a mail
    from an agent's address that is not proven theirs (anyone can write that From)."""
    if ctx.is_new or ctx.mail_class is not MailClass.HUMAN or ctx.answers_desk or ctx.refusal:
        return
    sender = ctx.mail.from_addr
    if ctx.ticket.status == Status.RESOLVED:
        tickets.reopen(session, app, ctx.ticket, sender, ctx.now)
    elif ctx.ticket.status == Status.PENDING and ctx.claimed is None:
        tickets.set_status(session, app, ctx.ticket, Status.OPEN, sender, ctx.now, Cause.CUSTOMER)


def hear_escalation_request(ctx: Intake, app: Desk, session: Session) -> None:
    """A customer who writes that the level is too low: the leads get the ticket (sla),
    once per ticket in `sla.escalation_request_window`."""
    if ctx.mail_class is not MailClass.HUMAN or ctx.claimed is not None:
        return
    found = app.config.sla.too_low.search(f"{ctx.mail.subject}\n{ctx.mail.new_text}")
    if found is not None and ctx.ticket.status not in (Status.RESOLVED, Status.CLOSED):
        reason = one_line(found.group(0), NAME_LIMIT)
        react.customer_asked(session, app, ctx.ticket, ctx.mail.from_addr, reason, ctx.now)


def note_refusal(ctx: Intake, app: Desk, session: Session) -> None:
    """A mail from an agent's address that is not proven theirs: kept as an ordinary mail,
    the reason noted on its ticket, the real agent told (at most once an hour)."""
    if ctx.refusal is not None and ctx.claimed is not None:
        refusal, agent = ctx.refusal, ctx.claimed
        agent_notify.refused(session, app, ctx.ticket, agent, ctx.mail, refusal, ctx.now)


def find_articles(ctx: Intake, app: Desk, session: Session) -> None:
    """Sets articles: the published ones that match a customer's mail, for the agents it
    is told to, and a new ticket's acknowledgement (suggestions.py)."""
    if ctx.mail_class is MailClass.HUMAN and ctx.claimed is None and not ctx.answers_desk:
        ctx.articles = suggestions.matching(session, app, ctx.ticket, ctx.mail)


def queue_ack(ctx: Intake, app: Desk, session: Session) -> None:
    """Queues the acknowledgement: human mail only, new tickets (or follow-ups if set),
    with the articles found, each noted as suggested once the mail is queued.

    notify's gate may still refuse it (no-reply, bouncing, loop budget).
    """
    if ctx.mail_class is not MailClass.HUMAN or ctx.refusal is not None or ctx.answers_desk:
        return
    if ctx.is_new or app.config.intake.ack_follow_ups:
        extra = {"rejected_attachments": ctx.rejected} | promise.ack_promise(
            app, ctx.ticket, ctx.now
        )
        found = ctx.articles if ctx.is_new else []  # suggested once, with the ticket
        shown = suggestions.for_customer(session, app, ctx.ticket, found)
        extra["suggestions"] = shown
        if notify.queue_ack(session, app, ctx.ticket, ctx.mail, ctx.now, extra) is not None:
            suggestions.suggested(session, ctx.ticket, shown, ctx.now)


def notify_agents(ctx: Intake, app: Desk, session: Session) -> None:
    """Tells the assignee (else the team, else the leads) of a customer's human mail,
    unless its sender is over their hourly cap (notice_cap.py: told in one later)."""
    if ctx.mail_class is not MailClass.HUMAN or ctx.claimed is not None or ctx.answers_desk:
        return
    agents, _unrouted = agent_notify.recipients(app, ctx.ticket)
    if notice_cap.admit(session, app, ctx.mail.from_addr, agents, ctx.ticket, ctx.now):
        agent_notify.queue_notifications(
            session,
            app,
            ctx.ticket,
            ctx.mail,
            ctx.is_new,
            ctx.now,
            ctx.uncopied,
            suggestions.for_agents(ctx.articles),
        )
