"""Loop protection: may we send one more automatic mail to this address on this ticket?

Two autoresponders answering each other, or a misbehaving sender opening a
ticket a minute, must not make us send mail without end. Like Znuny
(`PostmasterMaxEmails`, 40 per address per day) and Zammad (25 per ticket per
hour) we count what we already queued; past the budget the mail is stored and
not answered. No-reply and bouncing addresses never get automatic mail, and
neither does anything but one address we would deliver to (addresses.py).

Only automatic mail to customers is budgeted (acks, status updates, surveys):
agent replies are people writing, and staff notices (agent notifications,
escalations) go to configured addresses and must never be silenced.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from maildesk.config import LoopsConfig
from maildesk.mail.addresses import MAX_LENGTH, deliverable
from maildesk.mail.plaintext import one_line
from maildesk.store.db import execute
from maildesk.store.tables import OutboxKind, OutboxMail, OutboxRecipient

BUDGETED_KINDS = frozenset({OutboxKind.ACK, OutboxKind.STATUS_UPDATE, OutboxKind.SURVEY})
ADDRESS_WINDOW = timedelta(hours=24)
TICKET_WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class Recent:
    """Automatic mails already queued: to the address in 24 h, on the ticket in 1 h."""

    to_address: int
    on_ticket: int


def refusal(
    config: LoopsConfig, to: tuple[str, ...], bouncing: bool, recent: Recent
) -> str | None:
    """Why no automatic mail may go to the envelope `to` now, or None when it may. Pure."""
    if len(to) != 1:
        return f"automatic mail goes to one address, not {len(to)}"
    address = to[0]
    why = deliverable(address)
    if why is not None:
        return f"not an address we deliver to ({why}): {one_line(address, MAX_LENGTH)}"
    if config.no_reply.search(address.lower()):
        return f"{address} is a no-reply address"
    if bouncing:
        return f"mail to {address} bounces"
    if recent.to_address >= config.max_per_address_per_day:
        return (
            f"{recent.to_address} automatic mails to {address} in 24 h "
            f"(loops.max_per_address_per_day = {config.max_per_address_per_day})"
        )
    if recent.on_ticket >= config.max_per_ticket_per_hour:
        return (
            f"{recent.on_ticket} automatic mails on this ticket in 1 h "
            f"(loops.max_per_ticket_per_hour = {config.max_per_ticket_per_hour})"
        )
    return None


_TO_ADDRESS = OutboxMail.id.in_(
    select(OutboxRecipient.outbox_id).where(
        OutboxRecipient.address.in_(bindparam("addresses", expanding=True))
    )
)
_ON_TICKET = (OutboxMail.ticket_id == bindparam("ticket")) & (
    OutboxMail.created_at > bindparam("hour_ago", type_=OutboxMail.created_at.type)
)
_RECENT = select(
    func.count(OutboxMail.id).filter(_TO_ADDRESS), func.count(OutboxMail.id).filter(_ON_TICKET)
).where(
    OutboxMail.kind.in_([str(kind) for kind in BUDGETED_KINDS]),
    OutboxMail.created_at > bindparam("day_ago", type_=OutboxMail.created_at.type),
    _TO_ADDRESS | (OutboxMail.ticket_id == bindparam("ticket")),
)


def count_recent(session: Session, to: tuple[str, ...], ticket_id: int, now: datetime) -> Recent:
    """Count budgeted outbox rows to `to` and on the ticket.

    Any status counts: a failed send was still an attempt.
    """
    params = {
        "addresses": list(to),
        "ticket": ticket_id,
        "day_ago": now - ADDRESS_WINDOW,
        "hour_ago": now - TICKET_WINDOW,
    }
    by_address, by_ticket = execute(session, _RECENT, params).one()
    return Recent(to_address=by_address, on_ticket=by_ticket)
