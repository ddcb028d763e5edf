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

Counting is one statement on the sender's row (an upsert that returns the
count); only a held notice costs two more. Intake's batch reads its senders'
rows at once (`read_counts`), counts in memory and writes them at its end
(`counting`): a statement per batch, not per mail.
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from types import ModuleType

from sqlalchemy import Executable, bindparam, case, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from maildesk.config import AgentConfig
from maildesk.desk import agent_notify, tickets
from maildesk.desk.batch import Batch, Count
from maildesk.desk.context import Desk
from maildesk.desk.notify import ticket_context
from maildesk.mail.addresses import MAX_LENGTH
from maildesk.mail.plaintext import one_line
from maildesk.store import claims
from maildesk.store.db import execute, transaction
from maildesk.store.deadline_tables import SenderNotices
from maildesk.store.tables import Ticket

WINDOW = timedelta(hours=1)
LISTED = 20  # ticket numbers a folded notice names; past that it says "and others"
BATCH = 200
HELD = "notice_held"
_KEY = "agent_mail.max_notices_per_sender_per_hour"
_T = SenderNotices.__table__
_WHEN = SenderNotices.window_start.type
_HELD_COLUMNS = (_T.c.held, _T.c.held_since, _T.c.due_at, _T.c.held_to, _T.c.held_tickets)


def read_counts(session: Session, batch: Batch, senders: Sequence[str]) -> None:
    """The hours of these senders, read for a batch of their mails (locked, so a worker
    beside it counts after it); `counting` writes them at the batch's end."""
    keys = sorted({_key(sender) for sender in senders})
    batch.notices = dict.fromkeys(keys)
    if keys:
        for sender, start, counted in execute(session, _READ, {"senders": keys}):
            batch.notices[sender] = (start, counted, False)


@contextmanager
def counting(session: Session, batch: Batch) -> Iterator[None]:
    """Write the hours counted in memory (`read_counts`) at the end of the block."""
    try:
        yield
        _write_counts(session, batch)
    finally:
        batch.notices = None


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
    key = _key(sender)
    counts = app.batch.notices
    if counts is not None and key in counts:
        counted, window_start = _count_in(counts, key, now)
    else:
        params = {"sender": key, "now": now, "hour_ago": now - WINDOW}
        counted, window_start = execute(session, _COUNT[_dialect(session)], params).one()
    if counted <= cap:
        return True
    _write_counts(session, app.batch)  # the held notice goes on the sender's row
    row = execute(session, select(*_HELD_COLUMNS).where(_T.c.sender == key)).one()
    due = row.due_at or window_start + WINDOW
    held = {
        "held": row.held + 1,
        "held_since": row.held_since or now,
        "due_at": due,
        "held_to": _joined(row.held_to, [a.email for a in recipients]),
        "held_tickets": _joined(row.held_tickets, [str(ticket.number)], LISTED + 1),
        "ticket_id": ticket.id,
    }
    execute(session, update(_T).where(_T.c.sender == key).values(held))
    detail = (
        f"agents not told one by one: over {_KEY} = {cap}; "
        f"told in one at {agent_notify.local_time(app, due)}"
    )
    tickets.record(session, app.batch, ticket, HELD, detail, "maildesk", now)
    return False


def fold(sessions: sessionmaker[Session], app: Desk, now: datetime) -> int:
    """Send the folded notice of every sender whose hour with held notices has ended;
    returns how many senders were told of. Claimed like the survey sweep (SKIP LOCKED)."""
    told = 0
    while True:
        with transaction(sessions, write=True) as session:
            due = SenderNotices.due_at
            rows = claims.due_with_tickets(session, SenderNotices, due, now, BATCH)
            unit = app.unit()
            for row, ticket in rows:
                _tell(session, unit, row, ticket, now)
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
    tickets.record(session, app.batch, ticket, "notices_folded", detail, "maildesk", now)
    row.held, row.held_since, row.due_at = 0, None, None
    row.held_to, row.held_tickets, row.ticket_id = "", "", None


def _key(sender: str) -> str:
    return sender.strip().lower()[:MAX_LENGTH]


def _count_in(counts: dict[str, Count | None], key: str, now: datetime) -> tuple[int, datetime]:
    """`_COUNT` in memory: the count of the sender's hour and its start."""
    known = counts[key]
    over = known is None or known[0] <= now - WINDOW
    start, counted = (now, 1) if known is None or over else (known[0], known[1] + 1)
    counts[key] = (start, counted, True)
    return counted, start


def _write_counts(session: Session, batch: Batch) -> None:
    counts = batch.notices or {}
    changed = {key: count for key, count in counts.items() if count is not None and count[2]}
    if changed:
        rows = [
            {"sender": key, "start": start, "counted": counted}
            for key, (start, counted, _changed) in changed.items()
        ]
        execute(session, _STORE[_dialect(session)], rows)
        counts.update({key: (start, n, False) for key, (start, n, _c) in changed.items()})


def _store(dialect: ModuleType) -> Executable:
    """The hours counted in memory, as they are now."""
    insert = dialect.insert(_T).values(
        sender=bindparam("sender"),
        window_start=bindparam("start", type_=_WHEN),
        counted=bindparam("counted"),
        held=0,
        held_to="",
        held_tickets="",
    )
    counted = {"window_start": insert.excluded.window_start, "counted": insert.excluded.counted}
    return insert.on_conflict_do_update(index_elements=[_T.c.sender], set_=counted)


def _count(dialect: ModuleType) -> Executable:
    """One statement counts the notice in the sender's hour (a new hour when the last is
    over; the row made on first use) and returns the count and the hour's start."""
    insert = dialect.insert(_T).values(
        sender=bindparam("sender"),
        window_start=bindparam("now", type_=_WHEN),
        counted=1,
        held=0,
        held_to="",
        held_tickets="",
    )
    over = _T.c.window_start <= bindparam("hour_ago", type_=_WHEN)
    counted = {
        "window_start": case((over, insert.excluded.window_start), else_=_T.c.window_start),
        "counted": case((over, 1), else_=_T.c.counted + 1),
    }
    upsert = insert.on_conflict_do_update(index_elements=[_T.c.sender], set_=counted)
    return upsert.returning(_T.c.counted, _T.c.window_start)


_COUNT = {d.dialect.name: _count(d) for d in (sqlite, postgresql)}
_STORE = {d.dialect.name: _store(d) for d in (sqlite, postgresql)}
_READ = (
    select(_T.c.sender, _T.c.window_start, _T.c.counted)
    .where(_T.c.sender.in_(bindparam("senders", expanding=True)))
    .order_by(_T.c.sender)
    .with_for_update()
)


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _joined(words: str, more: list[str], limit: int | None = None) -> str:
    """Space-separated `words` with `more` added, each once, at most `limit` of them."""
    found = words.split()
    for word in more:
        if word not in found and (limit is None or len(found) < limit):
            found.append(word)
    return " ".join(found)
