"""What the demo's story acts on: the desk on its moved clock, the embedded servers,
and the mail that came out of them.

Everything reaches the desk the way it would in production: a mail is appended to
the IMAP inbox and the daemon's poll job takes it; time passes on the clock and the
daemon's sweeps run. The scene only reads the database, to name what it saw.
"""

from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from sqlalchemy import select

from maildesk.app import App
from maildesk.daemon.turns import Turns
from maildesk.demo.clock import Clock
from maildesk.demo.mails import customer_mail
from maildesk.demo.servers import Deliveries, SmtpCapture
from maildesk.errors import MaildeskError
from maildesk.store import db
from maildesk.store.tables import OutboxMail
from maildesk.views import records


class Missed(MaildeskError):
    """A step of the story did not happen; the message says what was missing."""


@dataclass(frozen=True)
class Sent:
    """A mail the embedded SMTP server received, with the kind the outbox gave it."""

    kind: str
    to: str
    mail: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.mail["Subject"])

    def text(self) -> str:
        part = self.mail.get_body(("plain",))
        return part.get_content() if isinstance(part, EmailMessage) else ""


@dataclass
class Scene:
    """The desk, its clock and servers, the daemon's jobs, and what the story has seen."""

    app: App
    clock: Clock
    inbox: Deliveries  # into the support mailbox
    capture: SmtpCapture
    turns: Turns = field(init=False)
    numbers: dict[str, int] = field(default_factory=dict)  # a role in the story -> ticket
    sent: list[Sent] = field(default_factory=list)  # every mail seen so far

    def __post_init__(self) -> None:
        self.turns = Turns(self.app)

    def deliver(self, sender: str, subject: str, body: str, **headers: str) -> None:
        """A mail reaches the support mailbox, for the daemon's next poll."""
        self.inbox.append(
            customer_mail(sender, subject, body, self.inbox.user, self.clock(), **headers)
        )

    def poll(self) -> None:
        """The daemon's poll job takes what was delivered; its drain sends what it queued."""
        self.turns.poll()

    def reply(self, sender: str, to: Sent, body: str) -> None:
        """`sender` answers a mail the desk sent them, quoting it as mail clients do."""
        quoted = "\n".join(f"> {line}" for line in to.text().splitlines())
        ids = f"{to.mail['References'] or ''} {to.mail['Message-ID']}".strip()
        self.deliver(
            sender,
            f"Re: {to.subject}",
            f"{body}\n\nOn {to.mail['Date']}, {to.mail['From']} wrote:\n{quoted}\n",
            In_Reply_To=str(to.mail["Message-ID"]),
            References=ids,
        )

    def later(self, **delta: float) -> None:
        """Time passes on the desk's clock; the daemon's sweeps run at the new moment."""
        self.clock.advance(**delta)
        self.turns.sweep()

    def new_mail(self) -> list[Sent]:
        """What the embedded SMTP server received since the last look (kept in `sent`)."""
        fresh = self.capture.mails[len(self.sent) :]
        with db.transaction(self.app.sessions) as session:
            ids = [str(m["Message-ID"]) for m in fresh]
            query = select(OutboxMail.message_id, OutboxMail.kind)
            kinds = dict(
                session.execute(query.where(OutboxMail.message_id.in_(ids))).tuples().all()
            )
        found = [Sent(kinds.get(str(m["Message-ID"]), "?"), str(m["To"]), m) for m in fresh]
        self.sent += found
        return found

    def ticket(self, role: str) -> dict[str, Any]:
        """`tickets show N --json` of the ticket that plays `role`, as data."""
        with db.transaction(self.app.sessions) as session:
            found = records.ticket_detail(session, self.numbers[role])
        if found is None:
            raise Missed(f"ticket #{self.numbers[role]} ({role}) is gone")
        return found

    def tickets(self) -> list[dict[str, Any]]:
        with db.transaction(self.app.sessions) as session:
            return records.ticket_list(session)


def one(mails: list[Sent], what: str, kind: str, to: str, tag: str = "") -> Sent:
    """The mail of `kind` to `to` (with `tag` in its subject) among `mails`, or Missed."""
    for sent in mails:
        if sent.kind == kind and to in sent.to and tag in sent.subject:
            return sent
    seen = "; ".join(f"{s.kind} to {s.to}: {s.subject}" for s in mails) or "no mail"
    raise Missed(f"{what}: no {kind} mail to {to} (seen: {seen})")
