"""What a bounce means: the customer did not get our mail, so say so and stop writing.

A bounce that threaded to a ticket is tied to the mail of ours it returns
(its Message-ID, which we stored when we queued it). The address that mail
went to is marked bouncing, which stops automatic mail to it, and the ticket
records a `bounce` event for the agent. Only a bounce that names one of our
mails marks anything: a forged report quoting just a ticket tag must not
silence a customer. The address works again when it writes to us.
"""

from datetime import datetime
from email.utils import getaddresses

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from maildesk.desk import tickets
from maildesk.mail import dsn
from maildesk.mail.message import Incoming
from maildesk.store.db import InsertOrSkip, execute
from maildesk.store.tables import Contact, Direction, Message, Participant, Ticket

MAX_REASON = 1000
_CACHE = "maildesk.bouncing"
# A contact another worker creates at the same moment is no error.
_NEW_CONTACT = InsertOrSkip(Contact.__table__, ["address"])
_CONTACT = select(Contact).where(Contact.address == bindparam("address"))
_BOUNCING = select(Contact.address).where(Contact.bouncing.is_(True))


def record(session: Session, ticket: Ticket, mail: Incoming, now: datetime) -> None:
    """Note on `ticket` who did not get which mail of ours; mark failed addresses."""
    reports = mail.reports
    sent = _returned_mail(session, ticket, mail)
    if sent is None:
        summary = "; ".join(f"{r.final}: {r.reason()}" for r in reports) or "no delivery report"
        detail = f"a bounce names none of our mails on this ticket ({summary}); nothing marked"
        tickets.record(session, ticket, "bounce", detail, mail.from_addr, now)
        return
    for address, report in _bounced(sent, reports):
        reason = report.reason() if report else "no delivery report"
        if report is not None and not report.permanent:
            detail = f"our mail {sent.message_id} to {address} is delayed: {reason}"
            tickets.record(session, ticket, "delivery_delayed", detail, mail.from_addr, now)
            continue
        mark_bouncing(session, address, reason, now)
        detail = f"{address} did not get our mail {sent.message_id}: {reason}"
        tickets.record(session, ticket, "bounce", detail, mail.from_addr, now)


def mark_bouncing(session: Session, address: str, reason: str, now: datetime) -> None:
    key = address.lower()
    _NEW_CONTACT(session, {"address": key, "bouncing": False, "bounce_count": 0})
    contact = session.scalar(_CONTACT, {"address": key})
    contact.bouncing = True
    contact.bouncing_since = contact.bouncing_since or now
    contact.last_bounce_at = now
    contact.bounce_count += 1
    contact.last_bounce_reason = reason[:MAX_REASON]
    session.flush()
    _bouncing(session).add(key)


def clear(session: Session, ticket: Ticket, address: str, now: datetime) -> None:
    """`address` wrote to us, so it receives mail again: automatic mail resumes."""
    if not is_bouncing(session, address):
        return
    key = address.lower()
    contact = session.scalar(_CONTACT, {"address": key})
    contact.bouncing = False
    contact.bouncing_since = None
    session.flush()
    _bouncing(session).discard(key)
    detail = f"{key} wrote again; it no longer counts as bouncing"
    tickets.record(session, ticket, "bounce_cleared", detail, key, now)


def is_bouncing(session: Session, address: str) -> bool:
    return address.lower() in _bouncing(session)


def _bouncing(session: Session) -> set[str]:
    """All bouncing addresses, read once per unit of work.

    Intake asks for every mail (an import batch is one unit of work), and
    few addresses ever bounce.
    """
    if _CACHE not in session.info:
        session.info[_CACHE] = set(execute(session, _BOUNCING).scalars())
    return session.info[_CACHE]


def bouncing_participants(session: Session, ticket: Ticket) -> list[str]:
    """Addresses on `ticket` that our mail does not reach, for the ticket view."""
    query = (
        select(Contact.address)
        .join(Participant, Participant.address == Contact.address)
        .where(Participant.ticket_id == ticket.id, Contact.bouncing.is_(True))
        .order_by(Contact.address)
    )
    return list(session.scalars(query))


def _returned_mail(session: Session, ticket: Ticket, mail: Incoming) -> Message | None:
    """Our outgoing mail on `ticket` that this bounce returns."""
    ids = [mail.returned.message_id] if mail.returned and mail.returned.message_id else []
    ids += mail.in_reply_to
    if not ids:
        return None
    return session.scalar(
        select(Message)
        .where(
            Message.ticket_id == ticket.id,
            Message.direction == Direction.OUT,
            Message.message_id.in_(ids),
        )
        .order_by(Message.id.desc())
        .limit(1)
    )


def _bounced(
    sent: Message, reports: tuple[dsn.Report, ...]
) -> list[tuple[str, dsn.Report | None]]:
    """Each recipient of `sent` that failed, with its report line when one names it.

    A report naming another address (the customer forwards to a dead mailbox)
    still means our recipient did not get the mail.
    """
    recipients = [addr.lower() for _name, addr in getaddresses([sent.to_addrs]) if "@" in addr]
    named = [(a, r) for a in recipients for r in reports if r.names(a)]
    return named or [(a, reports[0] if reports else None) for a in recipients]
