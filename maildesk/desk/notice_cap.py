"""A cap on the staff notices one sender's mail causes: `cap` an hour, then one more.

A customer (or a script) writing 200 mails must not mail the agents 200
times. Each sender (the address, lower-cased) has a counter row whose hour
starts with its first notice. In that hour the first
`agent_mail.max_notices_per_sender_per_hour` notices go as usual; later
ones are held: the mail is stored as usual, its ticket notes the held
notice, and the row counts it, with whom it was for and on which ticket.
When the hour ends (`due_at`, an indexed deadline kept as data, as the SLA
and survey sweeps keep theirs) `fold` sends those people one notice: "and N
more from <sender> since <time>", on the last held ticket. A restart loses
nothing, and a sender still writing then starts a new hour. 0: no cap.

Counting costs one locked read of the sender's row (two the first time).
"""

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from maildesk.config import AgentConfig
from maildesk.desk import agent_notify, tickets
from maildesk.desk.context import Desk
from maildesk.desk.notify import ticket_context
from maildesk.mail.addresses import MAX_LENGTH
from maildesk.mail.plaintext import one_line
from maildesk.store import claims
from maildesk.store.db import InsertOrSkip, transaction
from maildesk.store.deadline_tables import SenderNotices
from maildesk.store.tables import Ticket

WINDOW = timedelta(hours=1)
LISTED = 20  # ticket numbers a folded notice names; past that it says "and others"
BATCH = 200
HELD = "notice_held"
_KEY = "agent_mail.max_notices_per_sender_per_hour"
_NEW = InsertOrSkip(SenderNotices.__table__, ["sender"])


def admit(
    session: Session,
    app: Desk,
    sender: str,
    recipients: Sequence[AgentConfig],
    ticket: Ticket,
    now: datetime,
) -> bool:
    """May a notice to `recipients` caused by `sender`'s mail on `ticket` go now? If not,
    it is held (counted, noted on the ticket) for the folded notice at the hour's end."""
    cap = app.config.agent_mail.max_notices_per_sender_per_hour
    if cap == 0 or not recipients:
        return True
    row = _row(session, sender.strip().lower()[:MAX_LENGTH], now)
    if now >= row.window_start + WINDOW:
        row.window_start, row.told = now, 0
    if row.told < cap:
        row.told += 1
        return True
    if row.held == 0:
        row.held_since, row.due_at = now, row.window_start + WINDOW
    row.held += 1
    row.held_to = _joined(row.held_to, [a.email for a in recipients])
    row.held_tickets = _joined(row.held_tickets, [str(ticket.number)], LISTED + 1)
    row.ticket_id = ticket.id
    due = agent_notify.local_time(app, row.due_at)
    detail = f"agents not told one by one: over {_KEY} = {cap}; told in one at {due}"
    tickets.record(session, ticket, HELD, detail, "maildesk", now)
    return False


def fold(sessions: sessionmaker[Session], app: Desk, now: datetime) -> int:
    """Send the folded notice of every sender whose hour with held notices has ended;
    returns how many senders were told of. Claimed like the survey sweep (SKIP LOCKED)."""
    told = 0
    while True:
        with transaction(sessions, write=True) as session:
            due = SenderNotices.due_at
            rows = claims.due_with_tickets(session, SenderNotices, due, now, BATCH)
            for row, ticket in rows:
                _tell(session, app, row, ticket, now)
        told += len(rows)
        if len(rows) < BATCH:
            return told


def _tell(session: Session, app: Desk, row: SenderNotices, ticket: Ticket, now: datetime) -> None:
    numbers = row.held_tickets.split()
    context = ticket_context(app, ticket) | {
        "sender": one_line(row.sender, MAX_LENGTH),
        "count": row.held,
        "since": agent_notify.local_time(app, row.held_since),
        "cap": app.config.agent_mail.max_notices_per_sender_per_hour,
        "tickets": [int(n) for n in numbers[:LISTED]],
        "more_tickets": len(numbers) > LISTED,
    }
    for address in row.held_to.split():
        agent = app.config.agent(address)
        if agent is not None:  # still one of ours
            agent_notify.mail_agent(session, app, ticket, agent, "held_notices", context, now)
    detail = f"{row.held} held notices from {row.sender} told in one"
    tickets.record(session, ticket, "notices_folded", detail, "maildesk", now)
    row.held, row.held_since, row.due_at = 0, None, None
    row.held_to, row.held_tickets, row.ticket_id = "", "", None


def _row(session: Session, sender: str, now: datetime) -> SenderNotices:
    """The sender's counter row, locked for this transaction (made on first use)."""
    query = select(SenderNotices).where(SenderNotices.sender == sender).with_for_update()
    row = session.scalar(query)
    if row is None:
        fresh = {"sender": sender, "window_start": now, "told": 0, "held": 0}
        _NEW(session, fresh | {"held_to": "", "held_tickets": ""})
        row = session.scalar(query)
    return row


def _joined(words: str, more: list[str], limit: int | None = None) -> str:
    """Space-separated `words` with `more` added, each once, at most `limit` of them."""
    found = words.split()
    for word in more:
        if word not in found and (limit is None or len(found) < limit):
            found.append(word)
    return " ".join(found)
