"""A survey's life: scheduled at the resolution, answered by mail or link, superseded.

One survey per resolution: resolving again supersedes the one before (its
links stop working). An answer is taken while the ticket is resolved (the
rating can change until it closes); "not solved" reopens it; a low score
goes to the team's leads, once per survey however often it is given again.
"""

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from maildesk.desk import agent_notify, routing, tickets
from maildesk.desk.context import Desk
from maildesk.desk.events import StatusChanged
from maildesk.desk.notify import ticket_context
from maildesk.desk.survey import tokens
from maildesk.desk.survey.answers import Answer
from maildesk.mail.keys import Keys
from maildesk.store.deadline_tables import Survey, SurveyState
from maildesk.store.tables import OutboxKind, Status, Ticket

_LIVE = (SurveyState.SCHEDULED, SurveyState.SENT, SurveyState.ANSWERED)
_ANSWERABLE = (SurveyState.SENT, SurveyState.ANSWERED)


def schedule(session: Session, app: Desk, event: StatusChanged, now: datetime) -> None:
    """A resolution's survey, due after `survey.delay_hours`; with surveys off the row
    only keeps the window, at whose end the ticket closes."""
    config, ticket = app.config.survey, event.ticket
    if ticket.status != Status.RESOLVED or ticket.automatic:
        return
    session.execute(
        update(Survey)
        .where(Survey.ticket_id == ticket.id, Survey.state.in_(_LIVE))
        .values(due_at=None)
    )
    session.execute(
        update(Survey)
        .where(Survey.ticket_id == ticket.id, Survey.state == SurveyState.SCHEDULED)
        .values(state=SurveyState.SKIPPED, detail="resolved again")
    )
    session.add(
        Survey(
            ticket_id=ticket.id,
            customer=ticket.customer,
            agent=ticket.assignee,
            team=ticket.team,
            state=SurveyState.SCHEDULED if config.enabled else SurveyState.SKIPPED,
            resolved_at=now,
            due_at=now
            + (
                timedelta(hours=config.delay_hours)
                if config.enabled
                else timedelta(days=config.window_days)
            ),
            detail="" if config.enabled else "surveys are off",
        )
    )


def open_survey(session: Session, ticket: Ticket) -> Survey | None:
    """The survey a customer can answer now: sent (or answered) for the ticket's resolution."""
    if ticket.status != Status.RESOLVED:
        return None
    return session.scalar(
        select(Survey)
        .where(
            Survey.ticket_id == ticket.id,
            Survey.state.in_(_ANSWERABLE),
        )
        .order_by(Survey.id.desc())
        .limit(1)
    )


def record(
    session: Session,
    app: Desk,
    ticket: Ticket,
    survey: Survey,
    answer: Answer,
    now: datetime,
) -> None:
    """Keep the answer (a later one replaces the rating); act on "not solved" and low scores."""
    if answer.rating is not None:
        survey.rating = answer.rating
    if answer.comment:
        survey.comment = answer.comment[:4000]
    survey.solved = answer.solved
    survey.state, survey.answered_at = SurveyState.ANSWERED, now
    score = f"{survey.rating}/5" if survey.rating else "no score"
    detail = f"{score}{'' if answer.solved else ', not solved'}: {answer.comment}".rstrip(": ")
    tickets.record(session, app.batch, ticket, "survey_answer", detail, ticket.customer, now)
    if not answer.solved:
        tickets.reopen(session, app, ticket, ticket.customer, now)
        survey.due_at = None
    low = answer.rating is not None and answer.rating <= app.config.survey.low_score
    if low and survey.leads_told_at is None:
        _tell_leads(session, app, ticket, f"survey {score}: {answer.comment}".rstrip(": "), now)
        survey.leads_told_at = now


def _tell_leads(session: Session, app: Desk, ticket: Ticket, reason: str, now: datetime) -> None:
    context = ticket_context(app, ticket) | {"actor": ticket.customer, "reason": reason}
    for lead in routing.leads(app.config, ticket.team):
        agent_notify.mail_agent(
            session, app, ticket, lead, "escalated", context, now, kind=OutboxKind.ESCALATION
        )


def by_token(
    session: Session, keys: Keys, token: str, lock: bool = False
) -> tuple[Survey, Ticket] | None:
    """The survey and ticket a link's token is signed for; None for a forged or stale one.
    `lock`: the caller will write (FOR UPDATE); a page that only shows takes no lock."""
    checked = tokens.check(keys, token)
    if checked is None:
        return None
    survey_id, number = checked
    survey = session.get(Survey, survey_id, with_for_update=True if lock else None)
    if survey is None:
        return None
    ticket = session.get(Ticket, survey.ticket_id)
    if ticket is None or ticket.number != number:
        return None
    return survey, ticket


def takes_answers(session: Session, survey: Survey, ticket: Ticket) -> bool:
    """May this survey's link still rate? Sent or answered, its ticket resolved, and no
    newer survey of the ticket (reopened and resolved again: the old links are dead)."""
    if ticket.status != Status.RESOLVED or survey.state not in _ANSWERABLE:
        return False
    newer = select(Survey.id).where(Survey.ticket_id == ticket.id, Survey.id > survey.id)
    return session.scalar(newer.limit(1)) is None
