"""Loop protection: may we send one more automatic mail to this address on this ticket?

Two autoresponders answering each other, or a misbehaving sender opening a
ticket a minute, must not make us send mail without end. Like Znuny
(`PostmasterMaxEmails`, 40 per address per day) and Zammad (25 per ticket per
hour) we count what we already queued; past the budget the mail is stored and
not answered. The address budget counts the mailbox (`victim+1@` and
`VICTIM@` are `victim@`: addresses.mailbox), and a cap per domain catches
the rest (dots in a Gmail local part, a catch-all domain). No-reply,
bouncing and the desk's own addresses never get automatic mail, and neither
does anything but one address we would deliver to (addresses.py), which
every envelope of ours must be (`undeliverable`).

Only automatic mail to customers is budgeted (acks, status updates, surveys):
agent replies are people writing, and staff notices (agent notifications,
escalations) go to configured addresses and must never be silenced.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, bindparam, func, select
from sqlalchemy.orm import Session

from maildesk.config import Config, LoopsConfig
from maildesk.mail import verp
from maildesk.mail.addresses import MAX_LENGTH, deliverable, mailbox
from maildesk.mail.plaintext import one_line
from maildesk.store.db import execute
from maildesk.store.tables import OutboxKind, OutboxMail, OutboxRecipient

BUDGETED_KINDS = frozenset({OutboxKind.ACK, OutboxKind.STATUS_UPDATE, OutboxKind.SURVEY})
ADDRESS_WINDOW = timedelta(hours=24)
TICKET_WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class Recent:
    """Automatic mails already queued: to the mailbox and to its domain in 24 h (each
    counted up to its cap only), on the ticket in 1 h."""

    to_address: int
    on_ticket: int
    to_domain: int = 0


def undeliverable(address: str) -> str | None:
    """Why no mail of ours may go to envelope address `address`, or None when it may."""
    if not address:
        return "no address to send to"
    why = deliverable(address)
    if why is None:
        return None
    return f"not an address we deliver to ({why}): {one_line(address, MAX_LENGTH)}"


def refusal(
    config: LoopsConfig, to: tuple[str, ...], bouncing: bool, recent: Recent, own: bool = False
) -> str | None:
    """Why no automatic mail may go to the envelope `to` now, or None when it may. Pure."""
    if len(to) != 1:
        return f"automatic mail goes to one address, not {len(to)}"
    address = to[0]
    why = undeliverable(address)
    if why is not None:
        return why
    if own:
        return f"{address} is one of the desk's own addresses"
    if config.no_reply.search(address.lower()):
        return f"{address} is a no-reply address"
    if bouncing:
        return f"mail to {address} bounces"
    return _over_budget(config, address, recent)


def _over_budget(config: LoopsConfig, address: str, recent: Recent) -> str | None:
    found = mailbox(address, config.subaddress_separator)
    if recent.to_address >= config.max_per_address_per_day:
        reaches = found if found == address else f"{found} (which {address} reaches)"
        return (
            f"{recent.to_address} automatic mails to {reaches} in 24 h "
            f"(loops.max_per_address_per_day = {config.max_per_address_per_day})"
        )
    cap = config.max_per_domain_per_day
    if cap and recent.to_domain >= cap:
        return (
            f"{recent.to_domain} automatic mails to the domain {found.rpartition('@')[2]} in "
            f"24 h (loops.max_per_domain_per_day = {cap})"
        )
    if recent.on_ticket >= config.max_per_ticket_per_hour:
        return (
            f"{recent.on_ticket} automatic mails on this ticket in 1 h "
            f"(loops.max_per_ticket_per_hour = {config.max_per_ticket_per_hour})"
        )
    return None


def is_own(config: Config, address: str) -> bool:
    """One of the desk's own addresses (a sub-address of one too), or our return path."""
    separator = config.loops.subaddress_separator
    found = mailbox(address, separator)
    if verp.is_return_path(config.bounces.return_path, address):
        return True
    return any(mailbox(own, separator) == found for own in config.own_addresses())


def envelope(
    config: LoopsConfig, kind: str, to: Sequence[str], now: datetime
) -> list[dict[str, Any]]:
    """The outbox_recipients values of one mail (but its outbox_id): each address with the
    mailbox and domain the budget counts, and `budget_at` when the mail counts against it."""
    budget_at = now if kind in BUDGETED_KINDS else None
    rows = []
    for position, address in enumerate(to):
        found = mailbox(address, config.subaddress_separator)
        rows.append(
            {"position": position, "address": address, "mailbox": found}
            | {"domain": found.rpartition("@")[2], "budget_at": budget_at}
        )
    return rows


def _in_last_day(column: Any, name: str) -> Any:
    """Budgeted recipients of the last day whose `column` is :name, counted up to
    :<name>_cap: one range of one index, never longer than the cap."""
    day_ago = bindparam("day_ago", type_=OutboxRecipient.budget_at.type)
    rows = (
        select(OutboxRecipient.outbox_id)
        .where(column == bindparam(name), OutboxRecipient.budget_at > day_ago)
        .limit(bindparam(f"{name}_cap", type_=Integer))
        .subquery()
    )
    return select(func.count()).select_from(rows).scalar_subquery()


_ON_TICKET = (
    select(func.count(OutboxMail.id))
    .where(
        OutboxMail.ticket_id == bindparam("ticket"),
        OutboxMail.kind.in_([str(kind) for kind in BUDGETED_KINDS]),
        OutboxMail.created_at > bindparam("hour_ago", type_=OutboxMail.created_at.type),
    )
    .scalar_subquery()
)
_RECENT = select(
    _in_last_day(OutboxRecipient.mailbox, "mailbox"),
    _in_last_day(OutboxRecipient.domain, "domain"),
    _ON_TICKET,
)


def count_recent(
    session: Session,
    config: LoopsConfig,
    address: str,
    ticket_id: int,
    now: datetime,
    held: Sequence[Mapping[str, Any]] = (),
) -> Recent:
    """Count budgeted outbox rows to the mailbox of `address`, its domain, and on the ticket:
    in the database and `held` (outbox rows with their "recipients" not yet written, held.py).

    Any status counts: a failed send was still an attempt.
    """
    found = mailbox(address, config.subaddress_separator)
    params = {
        "mailbox": found,
        "mailbox_cap": config.max_per_address_per_day,
        "domain": found.rpartition("@")[2],
        "domain_cap": config.max_per_domain_per_day,
        "ticket": ticket_id,
        "day_ago": now - ADDRESS_WINDOW,
        "hour_ago": now - TICKET_WINDOW,
    }
    by_mailbox, by_domain, by_ticket = execute(session, _RECENT, params).one()
    waiting = _held(held, found, ticket_id, now)
    return Recent(
        to_address=min(by_mailbox + waiting.to_address, config.max_per_address_per_day),
        on_ticket=by_ticket + waiting.on_ticket,
        to_domain=min(by_domain + waiting.to_domain, config.max_per_domain_per_day),
    )


def _held(held: Sequence[Mapping[str, Any]], found: str, ticket_id: int, now: datetime) -> Recent:
    """What the `held` outbox rows add to count_recent's counts, by the same rules."""
    budgeted = [
        r
        for row in held
        for r in row["recipients"]
        if r["budget_at"] is not None and r["budget_at"] > now - ADDRESS_WINDOW
    ]
    on_ticket = sum(
        row["ticket_id"] == ticket_id
        and row["kind"] in BUDGETED_KINDS
        and row["created_at"] > now - TICKET_WINDOW
        for row in held
    )
    domain = found.rpartition("@")[2]
    return Recent(
        to_address=sum(r["mailbox"] == found for r in budgeted),
        on_ticket=on_ticket,
        to_domain=sum(r["domain"] == domain for r in budgeted),
    )
