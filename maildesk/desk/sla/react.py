"""What a ticket's events mean for its clocks (subscriptions.py lists them), and the
escalations agents and customers ask for.

- opened: first response and resolution start (review too, for P0/P1);
- pending pauses every clock, leaving it resumes; resolved meets resolution
  (a workaround counts) and stops a first response nobody gave, unless the
  customer resolved it with the articles suggested (self-service meets both); closed stops
  all; reopening runs resolution again with the time it used;
- an agent's mail meets the review; their answer to the customer meets the
  first response; a lead's mail meets the lead's answer;
- a new priority or team recomputes the targets from the ledger;
- an assignee meets the assignment clock of a ticket nobody had;
- `#escalate`, or a customer who writes that the level is too low, puts the
  ticket before the leads, who owe an answer within `sla.lead_answer`; a
  customer's request tells them once per ticket in `sla.escalation_request_window`.
"""

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from maildesk.config import AgentConfig, Config
from maildesk.desk import agent_notify, held, notice_cap, routing, tickets
from maildesk.desk.context import Desk
from maildesk.desk.events import (
    AgentWrote,
    Assigned,
    Cause,
    Merged,
    Opened,
    StatusChanged,
    TargetsChanged,
)
from maildesk.desk.notify import ticket_context
from maildesk.desk.sla import clocks
from maildesk.store.tables import Event, OutboxKind, Status, Ticket

_DONE = (Status.RESOLVED, Status.CLOSED)
ASKED = "escalation_requested"  # by the customer, and the leads were told
SELF_SERVICE = "self-service"  # what met the clocks of a ticket its customer resolved


def opened(session: Session, app: Desk, event: Opened, now: datetime) -> None:
    if not event.ticket.automatic:
        clocks.open_ticket(session, app, event.ticket, now)


def status_changed(session: Session, app: Desk, event: StatusChanged, now: datetime) -> None:
    ticket, before, after = event.ticket, event.before, event.ticket.status
    if before in _DONE and after not in _DONE:
        clocks.reopen(session, app, ticket, now)
    if after == Status.PENDING:
        clocks.pause(session, app, ticket, now)
    elif before == Status.PENDING and after == Status.OPEN:
        clocks.resume(session, app, ticket, now)
    elif after == Status.RESOLVED:
        if before == Status.PENDING:
            clocks.resume(session, app, ticket, now)
        if event.cause is Cause.SELF_SERVICE:  # the suggested articles were the answer
            clocks.meet(session, app, ticket, "first_response", now, SELF_SERVICE)
        resolved_by = SELF_SERVICE if event.cause is Cause.SELF_SERVICE else ""
        clocks.meet(session, app, ticket, "resolution", now, ticket.resolution or resolved_by)
        clocks.meet(session, app, ticket, "review", now)
        clocks.stop(session, app, ticket, now, "resolved")  # a first response nobody gave
    elif after == Status.CLOSED:
        clocks.stop(session, app, ticket, now, "closed")


def agent_wrote(session: Session, app: Desk, event: AgentWrote, now: datetime) -> None:
    ticket, agent = event.ticket, event.agent
    clocks.meet(session, app, ticket, "review", now, agent.email)
    if event.answered:
        clocks.meet(session, app, ticket, "first_response", now, agent.email)
    if is_lead(app, ticket, agent):
        clocks.meet(session, app, ticket, "lead_answer", now, agent.email)


def assigned(session: Session, app: Desk, event: Assigned, now: datetime) -> None:
    """Someone has the ticket: the routing the standards ask within 10 minutes is done."""
    if event.ticket.assignee:
        clocks.meet(session, app, event.ticket, "assignment", now, event.ticket.assignee)


def targets_changed(session: Session, app: Desk, event: TargetsChanged, now: datetime) -> None:
    ticket = event.ticket
    clocks.recompute(session, app, ticket, now, event.why)
    if ticket.priority in app.config.sla.review_priorities and ticket.status not in _DONE:
        existing = clocks.clocks_of(session, ticket).get("review")
        if existing is None:
            clocks.start(session, app, ticket, "review", now)


def merged(session: Session, app: Desk, event: Merged, now: datetime) -> None:
    """A merged ticket's clocks stop; its survivor's run on."""
    clocks.stop(session, app, event.ticket, now, f"merged into #{event.survivor.number}")


def customer_asked(
    session: Session, app: Desk, ticket: Ticket, actor: str, reason: str, now: datetime
) -> int:
    """A customer writes that the level is too low: the leads hear of it once per ticket
    in `sla.escalation_request_window`, and within the sender's cap (notice_cap.py);
    any other such mail is an event only. Returns how many leads were mailed."""
    window = timedelta(seconds=app.config.sla.escalation_request_window.seconds(0))
    asked = select(Event.id).where(
        Event.ticket_id == ticket.id, Event.kind == ASKED, Event.created_at > now - window
    )
    held_back = [e for e in held.waiting(app.batch, "events") if e["kind"] == ASKED]
    if any(e["ticket_id"] == ticket.id and e["created_at"] > now - window for e in held_back) or (
        session.scalar(asked.limit(1)) is not None
    ):
        tickets.record(
            session, app.batch, ticket, "escalation_request_repeated", reason, actor, now
        )
        return 0
    leads = escalation_leads(app.config, ticket, actor)
    if not notice_cap.admit(session, app, actor, leads, ticket, now):
        return 0
    return escalation_requested(session, app, ticket, actor, reason, now, event=ASKED)


def escalation_requested(
    session: Session,
    app: Desk,
    ticket: Ticket,
    actor: str,
    reason: str | None,
    now: datetime,
    event: str = "escalated",
) -> int:
    """Mail the leads (not the one asking) and start their answer clock; returns how many."""
    tickets.record(session, app.batch, ticket, event, reason or "by hand", actor, now)
    context = ticket_context(app, ticket) | {"actor": actor, "reason": reason}
    leads = escalation_leads(app.config, ticket, actor)
    for lead in leads:
        agent_notify.mail_agent(
            session, app, ticket, lead, "escalated", context, now, kind=OutboxKind.ESCALATION
        )
    if leads:
        clocks.start(session, app, ticket, "lead_answer", now)
    return len(leads)


def escalation_leads(config: Config, ticket: Ticket, actor: str) -> tuple[AgentConfig, ...]:
    """Whom an escalation tells: the team's leads (else the desk's), not the one asking."""
    return tuple(a for a in routing.leads(config, ticket.team) if a.email != actor)


def is_lead(app: Desk, ticket: Ticket, agent: AgentConfig) -> bool:
    return agent.role == "lead" or agent in routing.leads(app.config, ticket.team)
