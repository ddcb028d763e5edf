"""Ticket events → rendered OutboxMail rows. Never sends; the outbox job does.

Automatic mail carries the headers of an automatic reply (RFC 3834) and our
loop header, and a signed Message-ID that we also store, so replies and
bounces find their ticket even when the subject was edited. Every envelope
address of every mail is one address we would deliver to (`queue_mail`: a
mail whose `to` is not is not queued, a Cc that is not is left out, each
noted on the ticket). Automatic mail to customers also passes one gate,
`queue_automatic`: one recipient, not the desk's own, no-reply or bouncing
addresses, and the loop budget (loops.py). What the customer wrote (their
name, the subject) enters our mail only as one bounded line (plaintext.py).
"""

from dataclasses import dataclass, replace
from datetime import datetime
from email.utils import format_datetime
from typing import Any

from sqlalchemy.orm import Session

from maildesk.desk import bounces, held, loops, messages, threads, tickets
from maildesk.desk.batch import Batch
from maildesk.desk.context import Desk
from maildesk.mail import compose
from maildesk.mail.addresses import MAX_LENGTH
from maildesk.mail.classify import LOOP_HEADER, MailClass
from maildesk.mail.ids import make_message_id
from maildesk.mail.message import Incoming, Part
from maildesk.mail.plaintext import NAME_LIMIT, SUBJECT_LIMIT, one_line
from maildesk.mail.quotes import REPLY_MARKER
from maildesk.store.tables import (
    OutboxKind,
    OutboxStatus,
    Ticket,
)

SUPPRESSED = "auto_reply_suppressed"
NOT_SENT = "mail_not_sent"


@dataclass(frozen=True)
class Draft:
    """One mail to compose: what kind, to whom, what it says, the Message-ID it answers.

    `to` is the SMTP envelope as it will be sent, address by address.
    """

    kind: OutboxKind
    to: tuple[str, ...]
    subject: str
    text: str
    answers: str | None = None
    auto_submitted: str | None = "auto-generated"
    sender_name: str | None = None  # "Lin via Example Support"; default the desk's name
    cc: tuple[str, ...] = ()  # copied people: in the Cc header and the envelope after `to`
    attachments: tuple[compose.Attachment, ...] = ()  # files: multipart/mixed when any
    html: str | None = None  # the template's HTML alternative, if it has one

    @property
    def bound_to(self) -> str | None:
        """The one recipient, whom the Message-ID is bound to (ids.py): a reply to it then
        proves it answers our mail to them (an agent's commands, a customer's Cc's).
        A mail to several people is bound to none: each could show it as the others'."""
        everyone = (*self.to, *self.cc)
        return everyone[0] if len(everyone) == 1 else None


def attachment(part: Part) -> compose.Attachment:
    """A part of a mail we received, as a file to send on (an inline image becomes one)."""
    return compose.Attachment(part.filename, part.content_type, part.data)


def queue_ack(
    session: Session,
    app: Desk,
    ticket: Ticket,
    mail: Incoming,
    now: datetime,
    extra: dict[str, Any] | None = None,
) -> str | None:
    """Queue the acknowledgement of customer `mail` on `ticket`, if the gate allows."""
    name = mail.from_name if mail.from_addr == ticket.customer else ""
    nothing: dict[str, Any] = {"rejected_attachments": [], "suggestions": []}
    context = ticket_context(app, ticket, name) | nothing | (extra or {})
    template = "ack_out_of_hours" if context.get("work_starts") else "ack"
    rendered = app.templates.render(template, ticket.locale, context)
    draft = Draft(
        OutboxKind.ACK,
        (ticket.customer,),
        rendered.subject,
        rendered.text,
        mail.message_id,
        auto_submitted="auto-replied",
        html=rendered.html,
    )
    return queue_automatic(session, app, ticket, draft, now)


def queue_automatic(
    session: Session, app: Desk, ticket: Ticket, draft: Draft, now: datetime
) -> str | None:
    """The one gate for automatic mail to customers: queued, or stored as an event why not.

    It checks `draft.to`, which is the envelope the outbox sends to.
    """
    address = draft.to[0] if draft.to else ""
    held_mail = held.waiting(app.batch, "outbox")
    recent = loops.count_recent(session, app.config.loops, address, ticket.id, now, held_mail)
    bouncing = any(bounces.is_bouncing(session, app.batch, to) for to in draft.to)
    own = any(loops.is_own(app.config, to) for to in draft.to)
    why = loops.refusal(app.config.loops, draft.to, bouncing, recent, own)
    if why is not None:
        detail = f"{draft.kind} not sent: {why}"
        tickets.record(session, app.batch, ticket, SUPPRESSED, detail, "maildesk", now)
        return None
    return queue_mail(session, app, ticket, draft, now)


def ticket_context(app: Desk, ticket: Ticket, customer: str = "") -> dict[str, Any]:
    """Plain values for templates (never ORM objects: the sandbox sees data only).

    What the customer chose (name, address, subject) comes as one bounded line.
    """
    address = one_line(ticket.customer, MAX_LENGTH)
    return {
        "desk_name": app.config.desk.name,
        "tag": app.tag.format(ticket.number),
        "reply_marker": REPLY_MARKER,
        "customer_name": one_line(customer, NAME_LIMIT) or address,
        "ticket": {
            "number": ticket.number,
            "subject": one_line(ticket.subject, SUBJECT_LIMIT),
            "status": ticket.status,
            "priority": ticket.priority,
            "category": ticket.category,
            "team": ticket.team,
            "assignee": ticket.assignee,
            "customer": address,
        },
    }


def queue_mail(
    session: Session, app: Desk, ticket: Ticket, draft: Draft, now: datetime
) -> str | None:
    """Compose, store as an outgoing Message, and queue one mail; returns its Message-ID,
    or None when an address of `to` is not one we deliver to (`unsendable` says why).

    Automatic mail to customers comes through `queue_automatic`; this is
    for agent replies and staff notices, which no budget may silence.
    """
    why = unsendable(draft)
    if why is not None:
        detail = f"{draft.kind} not sent: {why}"
        tickets.record(session, app.batch, ticket, NOT_SENT, detail, "maildesk", now)
        return None
    draft = _deliverable_cc(session, app.batch, ticket, draft, now)
    sender = app.config.sender_for(ticket.mailbox)
    domain = sender.rpartition("@")[2]
    message_id = make_message_id(app.keys, ticket.number, domain, draft.bound_to)
    thread = threads.for_recipient(session, app, ticket, draft.answers, draft.bound_to)
    subject, raw = _compose(app, ticket, draft, sender, message_id, thread, now)
    threads.note(app.batch, ticket, message_id)
    messages.add_outgoing(
        session,
        app.batch,
        ticket,
        now,
        mail_class=MailClass.AUTO_REPLY if draft.auto_submitted else MailClass.HUMAN,
        message_id=message_id,
        from_addr=sender,
        from_name=draft.sender_name or app.config.desk.name,
        to_addrs=", ".join(draft.to),
        cc_addrs=", ".join(draft.cc),
        subject=subject,
        text=draft.text,
        full_text=draft.text,
        source=f"outbox:{draft.kind}",
    )
    _enqueue(session, app, ticket, draft, sender, message_id, raw, now)
    _tell_admins(session, app, ticket, now)
    return message_id


def unsendable(draft: Draft) -> str | None:
    """Why `draft` may not be sent at all: an address of its `to` that we do not deliver to."""
    if not draft.to:
        return "no address to send to"
    return next(filter(None, map(loops.undeliverable, draft.to)), None)


def _deliverable_cc(
    session: Session, batch: Batch, ticket: Ticket, draft: Draft, now: datetime
) -> Draft:
    """`draft` without the Cc addresses we do not deliver to, each noted on the ticket:
    the answer still reaches the customer."""
    kept = []
    for address in draft.cc:
        why = loops.undeliverable(address)
        if why is None:
            kept.append(address)
        else:
            tickets.record(
                session, batch, ticket, "cc_left_out", f"{draft.kind}: {why}", "maildesk", now
            )
    return replace(draft, cc=tuple(kept))


def _tell_admins(session: Session, app: Desk, ticket: Ticket, now: datetime) -> None:
    """An admin's template failed and the shipped one was sent: each admin hears of it
    once, on the ticket it happened to (templates.py keeps what was told)."""
    admins = [a.email for a in app.config.agents if a.role == "admin"]
    if not admins:
        return  # templates.py has logged it as an error
    for problem in app.templates.drain():
        subject = f"Template failed: {problem.path}"
        text = (
            f"{problem}\n\nThe shipped template was sent instead, until the file is fixed.\n"
            "`maildesk templates check` lists every problem of the templates.\n"
        )
        for admin in admins:
            draft = Draft(OutboxKind.AGENT_NOTIFICATION, (admin,), subject, text)
            queue_mail(session, app, ticket, draft, now)


def _enqueue(
    session: Session,
    app: Desk,
    ticket: Ticket,
    draft: Draft,
    sender: str,
    message_id: str,
    raw: bytes,
    now: datetime,
) -> None:
    """The outbox row the send job picks up, its envelope as a list (held.py)."""
    row = {
        "kind": draft.kind,
        "ticket_id": ticket.id,
        "message_id": message_id,
        "sender": sender,
        "raw": raw,
        "status": OutboxStatus.PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
        "recipients": loops.envelope(app.config.loops, draft.kind, (*draft.to, *draft.cc), now),
    }
    held.add(session, app.batch, "outbox", row)


def _compose(
    app: Desk,
    ticket: Ticket,
    draft: Draft,
    sender: str,
    message_id: str,
    thread: threads.Thread,
    now: datetime,
) -> tuple[str, bytes]:
    """Subject and bytes of the mail: threading headers, RFC 3834 ones when automatic."""
    subject = subject_line(app, ticket.number, draft.subject)
    headers = [
        ("From", compose.address(draft.sender_name or app.config.desk.name, sender)),
        ("To", ", ".join(draft.to)),
        *([("Cc", ", ".join(draft.cc))] if draft.cc else []),
        ("Subject", subject),
        ("Date", format_datetime(now)),
        ("Message-ID", message_id),
    ]
    if thread.in_reply_to:
        headers.append(("In-Reply-To", thread.in_reply_to))
    references = [_ticket_reference(app, ticket), *thread.references]
    headers.append(("References", " ".join(references)))
    if draft.auto_submitted:
        headers += [("Auto-Submitted", draft.auto_submitted), ("Precedence", "bulk")]
    headers += [("X-Auto-Response-Suppress", "All"), (LOOP_HEADER, app.config.desk.instance)]
    return subject, compose.text_mail(headers, draft.text, draft.attachments, draft.html)


def subject_line(app: Desk, number: int, subject: str) -> str:
    """The subject as sent on ticket `number`: one line, and its tag put back if removed."""
    line = one_line(subject, SUBJECT_LIMIT)
    return line if app.tag.find(line) == number else f"{app.tag.format(number)} {line}"


def _ticket_reference(app: Desk, ticket: Ticket) -> str:
    """A pseudo id shared by all our mail on a ticket, so mail clients keep one thread.

    It is not signed, so follow_up never trusts it; our signed ids do that job.
    """
    return f"<ticket-{ticket.number}@{app.config.desk.instance}>"
