"""Which ticket does a mail continue? (design.md, threading rules)

1. A Message-ID in In-Reply-To/References that is ours (signed) or that we
   stored; for a bounce, the ids of the returned message.
2. Our subject tag, but for human mail only when the sender already takes
   part in that ticket: a stranger typing a ticket number opens a new ticket
   instead of landing on someone else's (zammad#5064).
3. Otherwise none: the caller opens a new ticket.
"""

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from maildesk.ids import ticket_number
from maildesk.message import Incoming
from maildesk.models import MailClass, Message, Participant, Ticket

_BODY_ID = re.compile(r"^\s*message-id:\s*(<[^<>\s]+>)", re.I | re.M)


class SubjectTag:
    """Formats and finds our tag, e.g. `[Ticket#{number}]`; other systems' tags don't match."""

    def __init__(self, template: str) -> None:
        self.template = template
        before, _, after = template.partition("{number}")
        self.pattern = re.compile(re.escape(before) + r"\s*(\d{1,12})\s*" + re.escape(after), re.I)

    def format(self, number: int) -> str:
        return self.template.replace("{number}", str(number))

    def find(self, subject: str) -> int | None:
        match = self.pattern.search(subject)
        return int(match[1]) if match else None


def find_ticket(
    session: Session, mail: Incoming, mail_class: MailClass, tag: SubjectTag, secret: str
) -> Ticket | None:
    """The ticket this mail continues, or None for a new one."""
    return _by_ids(session, _candidate_ids(mail, mail_class), secret) or _by_tag(
        session, mail, mail_class, tag
    )


def _candidate_ids(mail: Incoming, mail_class: MailClass) -> list[str]:
    """Most specific first: the mail we answer, then the chain newest to oldest."""
    ids = list(mail.in_reply_to) + list(reversed(mail.references))
    if mail.returned is not None:
        returned = [mail.returned.message_id] if mail.returned.message_id else []
        ids = returned + list(reversed(mail.returned.references)) + ids
    if mail_class is MailClass.OWN_LOOP and mail.message_id:
        ids.insert(0, mail.message_id)
    if mail_class is MailClass.BOUNCE and mail.returned is None:
        ids += _BODY_ID.findall(mail.text)  # qmail and Exchange copy headers into the text
    return list(dict.fromkeys(ids))


def _by_ids(session: Session, ids: list[str], secret: str) -> Ticket | None:
    for message_id in ids:
        number = ticket_number(secret, message_id)
        if number is not None:
            ticket = session.scalar(select(Ticket).where(Ticket.number == number))
            if ticket is not None:
                return ticket
        stored = session.scalar(
            select(Message).where(Message.message_id == message_id).order_by(Message.id).limit(1)
        )
        if stored is not None:
            return stored.ticket
    return None


def _by_tag(session: Session, mail: Incoming, mail_class: MailClass, tag: SubjectTag):
    subject = mail.subject
    if mail.returned is not None:
        subject = f"{subject} {mail.returned.subject}"
    number = tag.find(subject)
    if number is None:
        return None
    ticket = session.scalar(select(Ticket).where(Ticket.number == number))
    if ticket is None:
        return None
    if mail_class is not MailClass.HUMAN or is_participant(session, ticket, mail.from_addr):
        return ticket
    return None


def is_participant(session: Session, ticket: Ticket, address: str) -> bool:
    """The customer, or anyone who wrote on or was copied on the ticket."""
    found = session.scalar(
        select(Participant.id).where(
            Participant.ticket_id == ticket.id, Participant.address == address
        )
    )
    return found is not None
