"""What a bounce means: the customer did not get our mail, so say so and stop writing.

A bounce is tied to the mail of ours it returns (returned.py), and the
ticket records a `bounce` event for the agent. Marking the address bouncing
stops automatic mail to it until it writes to us again, so a forged report
must not do it. With a signed return path (`bounces.return_path`, VERP) a
report that came back to the mail's own return path is trusted, and the
recipient marked is one of that mail's the report names, or its only one (a
mail to several people shares one return path, which each of them sees in
its Return-Path: one could report another); a report that did not come back
to one marks nothing. Without one, anybody who saw one of our Message-IDs (a
Cc) can quote it, so one report only notes; the address is marked when
reports on two different mails of ours to it came (weaker: set the path).
"""

from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from maildesk.desk import tickets
from maildesk.desk.batch import Batch
from maildesk.desk.returned import Sent, Verdict, by_message_ids
from maildesk.mail import dsn
from maildesk.mail.classify import looks_like_bounce
from maildesk.mail.message import Incoming
from maildesk.store.db import InsertOrSkip, execute
from maildesk.store.tables import Contact, Participant, Ticket

MAX_REASON = 1000
# A contact another worker creates at the same moment is no error.
_NEW_CONTACT = InsertOrSkip(Contact.__table__, ["address"])
_CONTACT = select(Contact).where(Contact.address == bindparam("address"))
_BOUNCING = select(Contact.address).where(Contact.bouncing.is_(True))
_UNSIGNED = (
    "not marked on one report without bounces.return_path: a report on another mail of"
    " ours to it will"
)


def record(
    session: Session,
    batch: Batch,
    ticket: Ticket,
    mail: Incoming,
    verdict: Verdict | None,
    now: datetime,
) -> None:
    """Note on `ticket` who did not get which mail of ours; mark failed addresses when the
    report is trusted. `verdict` is what its return path proves (None: no return path set)."""
    sent, why = _returned(session, mail, verdict)
    if sent is None:
        _note(session, batch, ticket, mail, why, now)
        return
    failed = _bounced(sent, mail.reports)
    if not failed:
        _note(
            session,
            batch,
            ticket,
            mail,
            f"the report names no recipient of {sent.message_id}",
            now,
        )
    for address, report in failed:
        _failed(session, batch, ticket, mail, sent, address, report, verdict is not None, now)


def _returned(
    session: Session, mail: Incoming, verdict: Verdict | None
) -> tuple[Sent | None, str]:
    """The mail of ours the bounce returns, else why none is proven."""
    if verdict is None:
        summary = "; ".join(f"{r.final}: {r.reason()}" for r in mail.reports)
        sent = by_message_ids(session, _quoted_ids(mail))
        return sent, f"a bounce names none of our mails ({summary})"
    if verdict.sent is not None and not mail.reports and not looks_like_bounce(mail):
        return None, f"mail to the return path of {verdict.sent.message_id} is no bounce"
    return verdict.sent, f"a bounce that proves nothing: {verdict.why}"


def _failed(
    session: Session,
    batch: Batch,
    ticket: Ticket,
    mail: Incoming,
    sent: Sent,
    address: str,
    report: dsn.Report | None,
    signed: bool,
    now: datetime,
) -> None:
    """One recipient of `sent` a report says failed: delayed, marked, or noted only."""
    reason = report.reason() if report else "no delivery report"
    if report is not None and not report.permanent:
        detail = f"our mail {sent.message_id} to {address} is delayed: {reason}"
        tickets.record(session, batch, ticket, "delivery_delayed", detail, mail.from_addr, now)
        return
    if signed or _confirmed(session, address, sent.message_id):
        mark_bouncing(session, batch, address, reason, now)
        detail = f"{address} did not get our mail {sent.message_id}: {reason}"
    else:
        detail = f"{address} may not have got our mail {sent.message_id}: {reason}; {_UNSIGNED}"
    tickets.record(session, batch, ticket, "bounce", detail, mail.from_addr, now)


def _note(
    session: Session, batch: Batch, ticket: Ticket, mail: Incoming, detail: str, now: datetime
) -> None:
    tickets.record(
        session, batch, ticket, "bounce", f"{detail}; nothing marked", mail.from_addr, now
    )


def _confirmed(session: Session, address: str, message_id: str) -> bool:
    """An unsigned report on `message_id` to `address`: True when an earlier one named
    another mail of ours to it; else it is kept to wait for one that does."""
    contact = _contact(session, address)
    if contact.unconfirmed_bounce not in (None, message_id):
        return True
    contact.unconfirmed_bounce = message_id
    session.flush()
    return False


def _contact(session: Session, address: str) -> Contact:
    key = address.lower()
    _NEW_CONTACT(session, {"address": key, "bouncing": False, "bounce_count": 0})
    return session.execute(_CONTACT, {"address": key}).scalar_one()


def mark_bouncing(
    session: Session, batch: Batch, address: str, reason: str, now: datetime
) -> None:
    contact = _contact(session, address)
    contact.bouncing = True
    contact.unconfirmed_bounce = None
    contact.bouncing_since = contact.bouncing_since or now
    contact.last_bounce_at = now
    contact.bounce_count += 1
    contact.last_bounce_reason = reason[:MAX_REASON]
    session.flush()
    _bouncing(session, batch).add(contact.address)


def clear(session: Session, batch: Batch, ticket: Ticket, address: str, now: datetime) -> None:
    """`address` wrote to us, so it receives mail again: automatic mail resumes."""
    if not is_bouncing(session, batch, address):
        return
    key = address.lower()
    contact = session.execute(_CONTACT, {"address": key}).scalar_one()
    contact.bouncing = False
    contact.bouncing_since = None
    contact.unconfirmed_bounce = None
    session.flush()
    _bouncing(session, batch).discard(key)
    detail = f"{key} wrote again; it no longer counts as bouncing"
    tickets.record(session, batch, ticket, "bounce_cleared", detail, key, now)


def is_bouncing(session: Session, batch: Batch, address: str) -> bool:
    return address.lower() in _bouncing(session, batch)


def _bouncing(session: Session, batch: Batch) -> set[str]:
    """All bouncing addresses, read once per unit of work (its Batch).

    Intake asks for every mail (an import batch is one unit of work), and
    few addresses ever bounce.
    """
    if batch.bouncing is None:
        batch.bouncing = set(execute(session, _BOUNCING).scalars())
    return batch.bouncing


def bouncing_participants(session: Session, ticket: Ticket) -> list[str]:
    """Addresses on `ticket` that our mail does not reach, for the ticket view."""
    query = (
        select(Contact.address)
        .join(Participant, Participant.address == Contact.address)
        .where(Participant.ticket_id == ticket.id, Contact.bouncing.is_(True))
        .order_by(Contact.address)
    )
    return list(session.scalars(query))


def _quoted_ids(mail: Incoming) -> list[str]:
    """The Message-IDs a report quotes: the returned mail's, then what it answers."""
    ids = [mail.returned.message_id] if mail.returned and mail.returned.message_id else []
    return ids + list(mail.in_reply_to)


def _bounced(sent: Sent, reports: tuple[dsn.Report, ...]) -> list[tuple[str, dsn.Report | None]]:
    """Each recipient of `sent` that failed, with its report line: those the report names,
    else the mail's only recipient (a report naming another address, when the customer
    forwards to a dead mailbox, still means ours did not get it); else none.
    """
    recipients = [address.lower() for address in sent.recipients]
    named: list[tuple[str, dsn.Report | None]] = [
        (a, r) for a in recipients for r in reports if r.names(a)
    ]
    if named or len(recipients) != 1:
        return named
    return [(recipients[0], reports[0] if reports else None)]
