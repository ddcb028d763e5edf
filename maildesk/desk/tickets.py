"""The one place that changes ticket state; every change leaves an Event row, and each
change that others react to is announced to the desk (events.py) once, here.

Tickets are ORM objects (one per unit of work, changed in place). Rows are
inserted with Core statements, which cost a third of an ORM flush and were
most of intake's database time (bench/ingest.py); events and participants
through held.py, which holds them for a batch of intake.
"""

from datetime import datetime

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session, make_transient_to_detached

from maildesk.config import AgentConfig
from maildesk.desk import held, threads
from maildesk.desk.batch import Batch
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
from maildesk.desk.rules import Classification
from maildesk.mail.addresses import MAX_LENGTH, deliverable
from maildesk.mail.message import Incoming
from maildesk.mail.plaintext import one_line
from maildesk.store.db import InsertOrSkip, execute
from maildesk.store.tables import (
    Message,
    Participant,
    Status,
    Ticket,
    TicketTag,
)

COPIED = "cc"  # the participants copied on agents' answers (copies.py)
# Built once: constructing a statement costs more than running it (see bench/).
_PARTICIPANT = select(Participant.id).where(
    Participant.ticket_id == bindparam("ticket"), Participant.address == bindparam("address")
)
_INSERT_TICKET = insert(Ticket.__table__).returning(*Ticket.__table__.columns)
_INSERT_PARTICIPANT = InsertOrSkip(Participant.__table__, ["ticket_id", "address"])
_COPY = (
    update(Participant.__table__)
    .where(Participant.ticket_id == bindparam("on"), Participant.address == bindparam("copy"))
    .values(role=COPIED)
)
_INSERT_TAG = InsertOrSkip(TicketTag.__table__, ["ticket_id", "tag"])
NO_CUSTOMER = "no_customer_address"


def open_ticket(
    session: Session,
    desk: Desk,
    mail: Incoming,
    found: Classification,
    locale: str,
    now: datetime,
    *,
    automatic: bool = False,
    mailbox: str | None = None,
    follows: Ticket | None = None,
    assignee: str | None = None,
) -> Ticket:
    """A new ticket for `mail` with the priority, category and team the rules found, the
    closed ticket it `follows` and its first `assignee`, if any.

    Its customer is the sender when that is one address we deliver to, else
    none (""): a From of two addresses or a quoted local part gets no mail of
    ours, and the ticket says why.
    """
    undeliverable = deliverable(mail.from_addr)
    values = {
        "number": held.ticket_number(session, desk.batch),
        "subject": mail.subject or "(no subject)",
        "status": Status.OPEN,
        "priority": found.priority,
        "category": found.category,
        "team": found.team,
        "mailbox": mailbox,
        "customer": "" if undeliverable else mail.from_addr,
        "assignee": assignee,
        "locale": locale,
        "automatic": automatic,
        "created_at": now,
        "updated_at": now,
    }
    ticket = Ticket(**execute(session, _INSERT_TICKET, values).one()._asdict())
    make_transient_to_detached(ticket)  # it is the row just inserted: no flush, no reload
    session.add(ticket)
    batch = desk.batch
    threads.opened(batch, ticket)
    if batch.customers is not None and ticket.customer in batch.customers:
        batch.customers[ticket.customer].insert(0, ticket)  # their newest (agent_notify)
    record(session, batch, ticket, "opened", f"priority {found.priority}", mail.from_addr, now)
    if undeliverable:
        sender = one_line(mail.from_addr, MAX_LENGTH) or "(none)"
        detail = f"the sender {sender} is not one we deliver to ({undeliverable})"
        detail = f"no customer address: {detail}; nothing is sent to it"
        record(session, batch, ticket, NO_CUSTOMER, detail, "maildesk", now)
    else:
        _insert_participant(session, batch, ticket, ticket.customer, "customer")
    if follows is not None:
        record(session, batch, ticket, "follows", f"#{follows.number}", mail.from_addr, now)
        record(session, batch, follows, "followed_by", f"#{ticket.number}", mail.from_addr, now)
    if assignee:
        record(session, batch, ticket, "assigned", f"nobody -> {assignee}", "maildesk", now)
        add_participant(session, batch, ticket, assignee, "agent")
    desk.emit(session, Opened(ticket), now)
    return ticket


def add_participant(
    session: Session, batch: Batch, ticket: Ticket, address: str, role: str
) -> None:
    """Remember that `address` takes part in `ticket` (the customer always does); one who
    already does keeps the part they had (the insert skips an existing row)."""
    if address and address != ticket.customer:
        _insert_participant(session, batch, ticket, address, role)


def copy_on_answers(session: Session, batch: Batch, ticket: Ticket, address: str) -> None:
    """Copy `address` on agents' answers (#cc, a Cc of the customer's proven mail), whatever
    part it took in the ticket before (held participants written first, to be changed)."""
    if address and address != ticket.customer:
        held.flush(session, batch)
        _INSERT_PARTICIPANT(session, {"ticket_id": ticket.id, "address": address, "role": COPIED})
        execute(session, _COPY, {"on": ticket.id, "copy": address})


def is_participant(session: Session, batch: Batch, ticket: Ticket, address: str) -> bool:
    """The customer, or anyone who wrote on or was copied on the ticket (held ones too)."""
    waiting = held.waiting(batch, "participants")
    if any(p["ticket_id"] == ticket.id and p["address"] == address for p in waiting):
        return True
    params = {"ticket": ticket.id, "address": address}
    return execute(session, _PARTICIPANT, params).first() is not None


def _insert_participant(
    session: Session, batch: Batch, ticket: Ticket, address: str, role: str
) -> None:
    row = {"ticket_id": ticket.id, "address": address, "role": role}
    held.add(session, batch, "participants", row)


def assign(
    session: Session, desk: Desk, ticket: Ticket, agent: str | None, actor: str, now: datetime
) -> None:
    """Give the ticket to `agent` (an email), or to nobody; the agent takes part in it."""
    detail = f"{ticket.assignee or 'nobody'} -> {agent or 'nobody'}"
    record(session, desk.batch, ticket, "assigned", detail, actor, now)
    ticket.assignee = agent
    ticket.updated_at = now
    desk.batch.assignees.clear()  # round robin asks again who had the team's last ticket
    if agent:
        add_participant(session, desk.batch, ticket, agent, "agent")
    desk.emit(session, Assigned(ticket), now)


def set_status(
    session: Session,
    desk: Desk,
    ticket: Ticket,
    status: str,
    actor: str,
    now: datetime,
    cause: Cause,
) -> None:
    """Move the ticket to `status`; resolving stamps resolved_at, leaving it clears it."""
    before = ticket.status
    if status == before:
        return
    record(session, desk.batch, ticket, "status", f"{before} -> {status}", actor, now)
    ticket.status = status
    ticket.resolved_at = now if status == Status.RESOLVED else None
    ticket.updated_at = now
    desk.emit(session, StatusChanged(ticket, before, cause), now)


def set_fields(
    session: Session,
    desk: Desk,
    ticket: Ticket,
    values: dict[str, str | None],
    actor: str,
    now: datetime,
    why: str | None = None,
) -> None:
    """Change `priority` and/or `team` (an event names each old and new value); the SLA
    targets follow once, for `why` (by default, what changed from what)."""
    changed = {n: getattr(ticket, n) for n, value in values.items() if getattr(ticket, n) != value}
    for name, before in changed.items():
        detail = f"{before or 'none'} -> {values[name]}"
        record(session, desk.batch, ticket, name, detail, actor, now)
        setattr(ticket, name, values[name])
    if changed:
        ticket.updated_at = now
        desk.batch.assignees.clear()  # a team's newest ticket may be another now
        default = ", ".join(f"{name} {before}" for name, before in changed.items())
        desk.emit(session, TargetsChanged(ticket, why or default), now)


def tag(
    session: Session, batch: Batch, ticket: Ticket, words: list[str], actor: str, now: datetime
) -> None:
    for word in words:
        _INSERT_TAG(session, {"ticket_id": ticket.id, "tag": word[:64]})
    record(session, batch, ticket, "tags", " ".join(words), actor, now)


def merge(
    session: Session, desk: Desk, ticket: Ticket, survivor: Ticket, actor: str, now: datetime
) -> None:
    """Move `ticket`'s messages, people and tags to `survivor`; `ticket` is closed, pointing
    at it, so a later reply to the merged ticket lands on the survivor (follow_up.py)."""
    batch = desk.batch
    held.flush(session, batch)  # the rows it moves
    for message in session.scalars(select(Message).where(Message.ticket_id == ticket.id)).all():
        message.ticket_id = survivor.id
    people = select(Participant).where(Participant.ticket_id == ticket.id)
    for person in session.scalars(people).all():
        add_participant(session, batch, survivor, person.address, person.role)
    for tag in session.scalars(select(TicketTag).where(TicketTag.ticket_id == ticket.id)).all():
        _INSERT_TAG(session, {"ticket_id": survivor.id, "tag": tag.tag})
    record(session, batch, ticket, "merged", f"into #{survivor.number}", actor, now)
    record(
        session, batch, survivor, "merged", f"#{ticket.number} merged into this ticket", actor, now
    )
    ticket.merged_into = survivor.id
    ticket.status = Status.CLOSED
    ticket.updated_at = survivor.updated_at = now
    desk.emit(session, Merged(ticket, survivor), now)


def agent_wrote(
    session: Session,
    desk: Desk,
    ticket: Ticket,
    agent: AgentConfig,
    answered: bool,
    now: datetime,
) -> None:
    """A proven agent's mail is on the ticket; `answered`: it went on to the customer, and
    the first answer is the first response (SLA)."""
    if answered:
        ticket.first_response_at = ticket.first_response_at or now
        ticket.updated_at = now
    desk.emit(session, AgentWrote(ticket, agent, answered), now)


def reopen(session: Session, desk: Desk, ticket: Ticket, actor: str, now: datetime) -> None:
    """The customer wrote again on a resolved ticket, or said it is not solved: open again."""
    before = ticket.status
    record(session, desk.batch, ticket, "reopened", f"{before} -> open", actor, now)
    ticket.status = Status.OPEN
    ticket.resolved_at = None
    ticket.updated_at = now
    desk.emit(session, StatusChanged(ticket, before, Cause.CUSTOMER), now)


def record(
    session: Session,
    batch: Batch,
    ticket: Ticket,
    kind: str,
    detail: str,
    actor: str,
    now: datetime,
) -> None:
    """One event in the ticket's history (held with the batch's when it holds)."""
    row = {
        "ticket_id": ticket.id,
        "kind": kind,
        "detail": detail,
        "actor": actor,
        "created_at": now,
    }
    held.add(session, batch, "events", row)
