"""A ticket's mails, in and out, and the files they carry: stored as rows, with Core.

Storing a mail changes no ticket state but its `updated_at`; the writer of a
person's mail takes part in the ticket (their Cc's: copies.py). An incoming mail is
written at once (the unique index of its Message-ID decides between workers,
pipeline.py), the mail we send held with the batch's rows (held.py).
"""

from datetime import datetime

from sqlalchemy import insert
from sqlalchemy.orm import Session

from maildesk.desk import held, threads
from maildesk.desk.batch import Batch
from maildesk.desk.tickets import add_participant
from maildesk.mail.classify import MailClass
from maildesk.mail.message import Incoming, Part
from maildesk.store.db import execute
from maildesk.store.tables import Attachment, Direction, Message, Ticket

# Built once: constructing a statement costs more than running it (see bench/).
_INSERT_MESSAGE = insert(Message.__table__)
_INSERT_ATTACHMENT = insert(Attachment.__table__)


def add_incoming(
    session: Session,
    batch: Batch,
    ticket: Ticket,
    mail: Incoming,
    mail_class: MailClass,
    raw_id: int,
    source: str,
    now: datetime,
) -> int:
    """Store an incoming mail on its ticket, a person's sender as a participant (their
    Cc's: copies.py), its Message-ID in the thread the batch knows; returns the id of
    its messages row."""
    row = {
        "ticket_id": ticket.id,
        "direction": Direction.IN,
        "mail_class": mail_class,
        "message_id": mail.message_id,
        "from_addr": mail.from_addr,
        "from_name": mail.from_name,
        "to_addrs": ", ".join(mail.to),
        "cc_addrs": ", ".join(mail.cc),
        "subject": mail.subject,
        "text": mail.new_text,
        "full_text": mail.text,
        "html": mail.html,
        "raw_id": raw_id,
        "source": source,
        "created_at": now,
    }
    # inserted_primary_key is typed Optional, yet a one-row insert always has one.
    stored = execute(session, _INSERT_MESSAGE, row).inserted_primary_key[0]  # type: ignore[index]
    if mail_class is MailClass.HUMAN:
        add_participant(session, batch, ticket, mail.from_addr, "writer")
    ticket.updated_at = now
    if mail.message_id:
        threads.note(batch, ticket, mail.message_id)
        if batch.incoming is not None:  # a copy later in the batch is its duplicate
            batch.incoming[mail.message_id] = True
    return stored


def add_outgoing(
    session: Session, batch: Batch, ticket: Ticket, now: datetime, **fields: str
) -> None:
    """Store a mail we send on its ticket (so replies to it thread)."""
    row = {"ticket_id": ticket.id, "direction": Direction.OUT, "created_at": now} | fields
    held.add(session, batch, "messages", row)


def add_attachment(session: Session, message: int, part: Part, blob_id: int | None) -> None:
    """Record one MIME part of messages row `message`; blob_id is None when it was not kept."""
    row = {
        "message_id": message,
        "filename": part.filename,
        "content_type": part.content_type,
        "size": len(part.data),
        "blob_id": blob_id,
        "inline": part.inline,
        "content_id": part.content_id,
    }
    execute(session, _INSERT_ATTACHMENT, row)
