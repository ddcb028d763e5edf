"""The Message-IDs a mail of ours names in References: the ticket's thread so far.

Read per mail, or once for a whole batch (`known`, the SLA sweep), kept
current as the batch queues its own mails (`note`).
"""

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from maildesk.store.db import execute
from maildesk.store.tables import Message, Ticket

MAX_REFERENCES = 10
_THREADS = "notify_threads"  # session.info: Message-IDs per ticket, while `known` holds
_THREAD_IDS = (
    select(Message.message_id)
    .where(Message.ticket_id == bindparam("ticket"), Message.message_id.is_not(None))
    .order_by(Message.id)
)


def references(session: Session, ticket: Ticket, answers: str | None) -> list[str]:
    """The thread, with the mail answered, trimmed like RT (first and last ids kept)."""
    return _trimmed(_ids(session, ticket), answers)


def note(session: Session, ticket: Ticket, message_id: str) -> None:
    """A mail just queued on the ticket joins its thread for the rest of the batch."""
    known = session.info.get(_THREADS, {}).get(ticket.id)
    if known is not None:
        known.append(message_id)


def _ids(session: Session, ticket: Ticket) -> list[str]:
    """Message-IDs on the ticket, oldest first (ids only: texts can be large)."""
    known = session.info.get(_THREADS, {}).get(ticket.id)
    if known is not None:
        return list(known)
    return list(execute(session, _THREAD_IDS, {"ticket": ticket.id}).scalars())


@contextmanager
def known(session: Session, ticket_ids: list[int]) -> Iterator[None]:
    """The Message-IDs of these tickets read in one query, for a batch of mails on them
    (the SLA sweep); queue_mail keeps them current as it adds its own."""
    found: dict[int, list[str]] = {ticket_id: [] for ticket_id in ticket_ids}
    rows = session.execute(
        select(Message.ticket_id, Message.message_id)
        .where(Message.ticket_id.in_(ticket_ids), Message.message_id.is_not(None))
        .order_by(Message.id)
    )
    for ticket_id, message_id in rows:
        found[ticket_id].append(message_id)
    session.info[_THREADS] = found
    try:
        yield
    finally:
        session.info.pop(_THREADS, None)


def _trimmed(chain: list[str], answers: str | None) -> list[str]:
    """The thread so far, trimmed like RT (first ids and last ids kept)."""
    if answers and answers not in chain:
        chain.append(answers)
    chain = list(dict.fromkeys(chain))
    if len(chain) > MAX_REFERENCES:
        chain = chain[:2] + chain[-(MAX_REFERENCES - 2) :]
    return chain
