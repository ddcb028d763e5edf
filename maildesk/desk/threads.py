"""The Message-IDs a mail of ours names in In-Reply-To and References: the ticket's
thread so far, as far as its recipient may see it.

An id of ours bound to one person (ids.py: a notification proves an agent's
reply, an acknowledgement the customer's) must never reach anyone else, or
they could present it as that person's. So every mail is filtered here, the
one place: it names ids not ours, unbound ids, and ids bound to the one
person it goes to; a mail to several people names no bound id at all (each
of them would see the others'). Binding only adds a tag under the HMAC, so
whatever a mail omits still threads by the ids it keeps and the ticket's
pseudo id.

Read per mail, or once for a whole batch (`known`, the SLA sweep: held on
the unit's Batch), kept current as the batch queues its own mails (`note`).
A unit that holds its rows back (held.py) keeps each thread it reads: the
mails it queues on it are not in the database yet.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from maildesk.desk.batch import Batch
from maildesk.desk.context import Desk
from maildesk.mail import ids
from maildesk.mail.keys import Keys
from maildesk.store.db import execute
from maildesk.store.tables import Message, Ticket

MAX_REFERENCES = 10
_THREAD_IDS = (
    select(Message.message_id)
    .where(Message.ticket_id == bindparam("ticket"), Message.message_id.is_not(None))
    .order_by(Message.id)
)


@dataclass(frozen=True)
class Thread:
    """The threading headers of one mail of ours."""

    in_reply_to: str | None
    references: list[str]


def for_recipient(
    session: Session, desk: Desk, ticket: Ticket, answers: str | None, bound_to: str | None
) -> Thread:
    """The mail answered and the thread, trimmed like RT (first and last ids kept), as the
    mail's recipient may see them: `bound_to` is its one recipient (None for several)."""
    keys = desk.keys
    chain = [i for i in _ids(session, desk.batch, ticket) if _visible(keys, i, bound_to)]
    shown = answers if answers and _visible(keys, answers, bound_to) else None
    return Thread(shown, _trimmed(chain, shown))


def _visible(keys: Keys, message_id: str, recipient: str | None) -> bool:
    """Not ours, unbound, or bound to `recipient` (the mail's one recipient)."""
    found = ids.signed(keys, message_id)
    return found is None or found.recipient is None or found.bound_to(recipient)


def note(batch: Batch, ticket: Ticket, message_id: str) -> None:
    """A mail just queued on the ticket joins its thread for the rest of the batch."""
    known = batch.threads.get(ticket.id)
    if known is not None:
        known.append(message_id)


def opened(batch: Batch, ticket: Ticket) -> None:
    """A ticket the batch just opened has no mail yet: its thread is known, and kept."""
    batch.threads[ticket.id] = []


def _ids(session: Session, batch: Batch, ticket: Ticket) -> list[str]:
    """Message-IDs on the ticket, oldest first (ids only: texts can be large)."""
    known = batch.threads.get(ticket.id)
    if known is not None:
        return list(known)
    found = list(execute(session, _THREAD_IDS, {"ticket": ticket.id}).scalars())
    if batch.held is not None:  # what it queues on the ticket joins it here (`note`)
        batch.threads[ticket.id] = list(found)
    return found


@contextmanager
def known(session: Session, batch: Batch, ticket_ids: list[int]) -> Iterator[None]:
    """The Message-IDs of these tickets read in one query, for a batch of mails on them
    (the SLA sweep); queue_mail keeps them current as it adds its own."""
    found: dict[int, list[str]] = {ticket_id: [] for ticket_id in ticket_ids}
    rows = session.execute(
        select(Message.ticket_id, Message.message_id)
        .where(Message.ticket_id.in_(ticket_ids), Message.message_id.is_not(None))
        .order_by(Message.id)
    )
    for ticket_id, message_id in rows:
        # The query keeps ids that are not NULL; the column's type cannot say so.
        found[ticket_id].append(message_id)  # type: ignore[arg-type]
    batch.threads.update(found)
    try:
        yield
    finally:
        for ticket_id in found:
            batch.threads.pop(ticket_id, None)


def _trimmed(chain: list[str], answers: str | None) -> list[str]:
    """The thread so far, trimmed like RT (first ids and last ids kept)."""
    if answers and answers not in chain:
        chain.append(answers)
    chain = list(dict.fromkeys(chain))
    if len(chain) > MAX_REFERENCES:
        chain = chain[:2] + chain[-(MAX_REFERENCES - 2) :]
    return chain
