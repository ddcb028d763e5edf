"""The survey sweep: surveys whose `due_at` has passed: send, skip, or close the ticket.

A scheduled survey goes out unless the ticket is no longer resolved
(reopened, merged, closed: as spam or by hand), the customer had one within
`survey.cooldown_days`, or notify's gate refuses it (bouncing, no-reply,
loop budget). Either way its row then waits for the end of the window,
when a ticket still resolved closes. Claimed like the SLA sweep (SKIP LOCKED).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from maildesk.desk import tickets
from maildesk.desk.context import Desk
from maildesk.desk.events import Cause
from maildesk.desk.notify import Draft, queue_automatic, ticket_context
from maildesk.desk.survey import tokens
from maildesk.store import claims
from maildesk.store.db import transaction
from maildesk.store.deadline_tables import Survey, SurveyState
from maildesk.store.tables import OutboxKind, Status, Ticket

BATCH = 200
ACTOR = "maildesk-survey"


@dataclass
class SurveyResult:
    sent: int = 0
    skipped: int = 0
    closed: int = 0

    def __bool__(self) -> bool:
        return bool(self.sent or self.skipped or self.closed)


def sweep(sessions: sessionmaker[Session], desk: Desk, now: datetime) -> SurveyResult:
    result = SurveyResult()
    while True:
        with transaction(sessions, write=True) as session:
            unit = desk.unit()
            rows = claims.due_with_tickets(session, Survey, Survey.due_at, now, BATCH)
            for survey, ticket in rows:
                look(session, unit, survey, ticket, now, result)
        if len(rows) < BATCH:
            return result


def look(
    session: Session,
    app: Desk,
    survey: Survey,
    ticket: Ticket,
    now: datetime,
    result: SurveyResult,
) -> None:
    window_end = survey.resolved_at + timedelta(days=app.config.survey.window_days)
    if ticket.status != Status.RESOLVED or ticket.merged_into is not None:
        _skip(survey, f"ticket {ticket.status}", result)
        survey.due_at = None
        return
    if survey.state == SurveyState.SCHEDULED:
        why = _why_not(session, app, survey, now) if now < window_end else "window over"
        if why is None and _send(session, app, ticket, survey, now) is not None:
            survey.state, survey.sent_at = SurveyState.SENT, now
            result.sent += 1
        else:
            _skip(survey, why or "refused by the automatic-mail gate (see events)", result)
        survey.due_at = window_end
        if now < window_end:
            return
    _close(session, app, ticket, survey, now)
    result.closed += 1


def link(app: Desk, survey: Survey, ticket: Ticket, score: int | None = None) -> str | None:
    """The survey page (with `score`: that rating chosen, to confirm), if the web page is on."""
    base = app.config.web.public_url
    if base is None:
        return None
    url = f"{base}/survey/{tokens.make(app.keys, survey.id, ticket.number)}"
    return url if score is None else f"{url}?score={score}"


def _why_not(session: Session, app: Desk, survey: Survey, now: datetime) -> str | None:
    since = now - timedelta(days=app.config.survey.cooldown_days)
    recent = session.scalar(
        select(func.count(Survey.id)).where(
            Survey.customer == survey.customer, Survey.sent_at > since, Survey.id != survey.id
        )
    )
    return (
        f"the customer had a survey in the last {app.config.survey.cooldown_days:g} days"
        if (recent)
        else None
    )


def _send(
    session: Session, app: Desk, ticket: Ticket, survey: Survey, now: datetime
) -> str | None:
    session.flush()  # the survey's id goes into its links
    context = ticket_context(app, ticket) | {
        "rating_links": [
            {"score": n, "url": url}
            for n in range(5, 0, -1)
            if (url := link(app, survey, ticket, n))
        ],
        "reply_hint": "5 / 4 / 3 / 2 / 1",
        "window_days": round(app.config.survey.window_days),
    }
    rendered = app.templates.render("survey", ticket.locale, context)
    draft = Draft(
        OutboxKind.SURVEY, (ticket.customer,), rendered.subject, rendered.text, html=rendered.html
    )
    return queue_automatic(session, app, ticket, draft, now)


def _close(session: Session, app: Desk, ticket: Ticket, survey: Survey, now: datetime) -> None:
    """The window is over: the resolved ticket closes (the standards' last step)."""
    tickets.set_status(session, app, ticket, Status.CLOSED, ACTOR, now, Cause.WINDOW)
    if survey.state == SurveyState.SENT:
        survey.state = SurveyState.EXPIRED
    survey.due_at = None


def _skip(survey: Survey, why: str, result: SurveyResult) -> None:
    if survey.state == SurveyState.SCHEDULED:
        survey.state, survey.detail = SurveyState.SKIPPED, why
        result.skipped += 1
