"""Which ticket does a mail continue? (design.md, threading rules)

1. A Message-ID in In-Reply-To/References that is ours (signed) or that we
   stored; for a bounce, the ids of the returned message.
2. Our subject tag, but for human mail only when the sender already takes
   part in that ticket: a stranger typing a ticket number opens a new ticket
   instead of landing on someone else's (zammad#5064).
3. Otherwise none: the caller opens a new ticket.
"""

import re

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from maildesk.desk import tickets
from maildesk.desk.batch import Batch
from maildesk.mail.classify import MailClass
from maildesk.mail.ids import ticket_number
from maildesk.mail.keys import Keys
from maildesk.mail.message import Incoming
from maildesk.mail.subject_tag import SubjectTag
from maildesk.store.tables import Message, Ticket

_BODY_ID = re.compile(r"^\s*message-id:\s*(<[^<>\s]+>)", re.I | re.M)
# Tickets themselves, one statement each (the session's own object when it holds one).
_BY_NUMBER = select(Ticket).where(Ticket.number == bindparam("number"))
_BY_MESSAGE_ID = (
    select(Ticket)
    .join(Message, Message.ticket_id == Ticket.id)
    .where(Message.message_id == bindparam("message_id"))
    .order_by(Message.id)
    .limit(1)
)


def find_ticket(
    session: Session,
    batch: Batch,
    mail: Incoming,
    mail_class: MailClass,
    tag: SubjectTag,
    keys: Keys,
) -> Ticket | None:
    """The ticket this mail continues, or None for a new one."""
    return _by_ids(session, _candidate_ids(mail, mail_class), keys) or _by_tag(
        session, batch, mail, mail_class, tag
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


def _by_ids(session: Session, ids: list[str], keys: Keys) -> Ticket | None:
    for message_id in ids:
        number = ticket_number(keys, message_id)
        if number is not None:
            ticket = by_number(session, number)
            if ticket is not None:
                return ticket
        found = session.scalars(_BY_MESSAGE_ID, {"message_id": message_id}).first()
        if found is not None:
            return found
    return None


def surviving(session: Session, ticket: Ticket) -> Ticket:
    """The ticket a merged one lives on in (merges can chain; a loop cannot arise, since
    a merged ticket takes no merge)."""
    while ticket.merged_into is not None:
        ticket = session.get_one(Ticket, ticket.merged_into)
    return ticket


def by_number(session: Session, number: int) -> Ticket | None:
    """The ticket numbered `number`; the session's own object when it holds one."""
    return session.scalars(_BY_NUMBER, {"number": number}).first()


def _by_tag(
    session: Session, batch: Batch, mail: Incoming, mail_class: MailClass, tag: SubjectTag
) -> Ticket | None:
    subject = mail.subject
    if mail.returned is not None:
        subject = f"{subject} {mail.returned.subject}"
    number = tag.find(subject)
    if number is None:
        return None
    ticket = by_number(session, number)
    if ticket is None or mail_class is not MailClass.HUMAN:
        return ticket
    return ticket if tickets.is_participant(session, batch, ticket, mail.from_addr) else None
