"""What a batch of mails reads in one go before its first mail runs, kept on its Batch:
whether their Message-IDs are stored, their senders' latest tickets and hours of staff
notices (issue #20: a statement per mail for each was a fifth of intake's).

A mail that rolls back drops what was read (Batch.savepoint): the mails after it ask
the database again, as a unit of work without read-ahead does.
"""

from collections.abc import Sequence

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from maildesk.desk import notice_cap
from maildesk.desk.agent_notify import EARLIER_TICKETS
from maildesk.desk.batch import Batch
from maildesk.mail.message import Incoming
from maildesk.store.db import execute
from maildesk.store.tables import Direction, Message, Ticket

# Built once: constructing a statement costs more than running it (see bench/).
_STORED = select(Message.message_id).where(
    Message.direction == Direction.IN,
    Message.message_id.in_(bindparam("ids", expanding=True)),
)
_RANKED = (
    select(
        Ticket.id,
        func.row_number()
        .over(partition_by=Ticket.customer, order_by=Ticket.id.desc())
        .label("newest"),
    )
    .where(Ticket.customer.in_(bindparam("customers", expanding=True)))
    .subquery()
)
# One more than agents are shown: the ticket the mail is on is not among its earlier ones.
_LATEST = (
    select(Ticket)
    .join(_RANKED, _RANKED.c.id == Ticket.id)
    .where(_RANKED.c.newest <= EARLIER_TICKETS + 1)
    .order_by(Ticket.id.desc())
)


def read(session: Session, batch: Batch, mails: Sequence[Incoming]) -> None:
    """Read for `mails` what each would ask for on its own."""
    ids = list(dict.fromkeys(mail.message_id for mail in mails if mail.message_id))
    stored = set(execute(session, _STORED, {"ids": ids}).scalars()) if ids else set()
    batch.incoming = {message_id: message_id in stored for message_id in ids}
    senders = list(dict.fromkeys(mail.from_addr for mail in mails if mail.from_addr))
    notice_cap.read_counts(session, batch, senders)
    batch.customers = {sender: [] for sender in senders}
    if senders:
        for ticket in session.scalars(_LATEST, {"customers": senders}):
            batch.customers[ticket.customer].append(ticket)
