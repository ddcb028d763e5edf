"""Who is copied on agents' answers: the Cc's a mail may add, and the people copied.

From proves nothing, so a mail that threads by our subject tag and its From
alone must not widen who reads the answers. The Cc's of a mail are copied only
when it is the ticket's customer answering a mail of ours bound to them
(In-Reply-To/References name it: they got that mail), or when an agent writes
`#cc`. Any other mail's Cc's (a brand-new ticket's too) are kept as
"cc_unverified" participants, who still count for threading by subject tag;
an event names them and the agent's notification says so. A later proven
mail of the customer that Cc's them, or `#cc`, copies them.
"""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from maildesk.desk import held, loops, tickets
from maildesk.desk.context import Desk
from maildesk.mail import ids
from maildesk.mail.keys import Keys
from maildesk.mail.message import Incoming
from maildesk.store.tables import Participant, Ticket

UNVERIFIED = "cc_unverified"
NOT_COPIED = "cc_not_copied"  # the event naming them
WHY = "the mail does not answer ours to the customer"


def answers_customer(keys: Keys, ticket: Ticket, mail: Incoming) -> bool:
    """The ticket's customer writes, answering a mail of ours bound to them."""
    if mail.from_addr.lower() != ticket.customer.lower():
        return False
    for reference in (*mail.in_reply_to, *mail.references):
        found = ids.signed(keys, reference)
        if found is not None and found.bound_to(ticket.customer):
            return True
    return False


def record(
    session: Session, app: Desk, ticket: Ticket, mail: Incoming, now: datetime
) -> tuple[str, ...]:
    """The Cc's of a person's mail as participants; returns those not copied on answers."""
    if not mail.cc:
        return ()
    if answers_customer(app.keys, ticket, mail):
        for address in mail.cc:
            tickets.copy_on_answers(session, app.batch, ticket, address)
        return ()
    for address in mail.cc:
        tickets.add_participant(session, app.batch, ticket, address, UNVERIFIED)
    already = set(copied(session, app, ticket))
    left = tuple(a for a in mail.cc if a not in already and _copyable(app, ticket, a))
    if left:
        detail = f"{', '.join(left)} ({WHY})"
        tickets.record(session, app.batch, ticket, NOT_COPIED, detail, mail.from_addr, now)
    return left


def copied(session: Session, app: Desk, ticket: Ticket) -> tuple[str, ...]:
    """The people copied on the ticket's answers, in the order they came."""
    waiting = held.waiting(app.batch, "participants")
    if any(p["ticket_id"] == ticket.id and p["role"] == tickets.COPIED for p in waiting):
        held.flush(session, app.batch)  # a copied one held back (held.py) counts too
    rows = session.scalars(
        select(Participant.address)
        .where(Participant.ticket_id == ticket.id, Participant.role == tickets.COPIED)
        .order_by(Participant.id)
    )
    return tuple(a for a in rows if _copyable(app, ticket, a))


def _copyable(app: Desk, ticket: Ticket, address: str) -> bool:
    """Never the customer, an agent or one of the desk's own addresses: they hear of the
    ticket otherwise, and would loop."""
    return (
        not loops.is_own(app.config, address)
        and app.config.agent(address) is None
        and address != ticket.customer
    )
