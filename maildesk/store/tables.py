"""The tables: tickets, messages, spent proofs, raw bytes, outbox, contacts
(intake_tables.py: receipts, cursors, quarantine; deadline_tables.py: the SLA clocks,
digests, surveys and held notices the sweeps act on).

Enumerations are short strings (portable between SQLite and PostgreSQL); times UTC, aware.
"""

from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, ClassVar

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Status(StrEnum):
    OPEN = "open"
    PENDING = "pending"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Direction(StrEnum):
    IN = "in"
    OUT = "out"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class OutboxKind(StrEnum):
    ACK = "ack"
    STATUS_UPDATE = "status_update"
    AGENT_NOTIFICATION = "agent_notification"
    AGENT_REPLY = "agent_reply"
    ESCALATION = "escalation"
    SURVEY = "survey"
    ADMIN_NOTICE = "admin_notice"  # to the admins about the desk itself (a mail that failed)


# UIDVALIDITY and UIDs are unsigned 32-bit, above PostgreSQL's INTEGER (SQLite's is 64).
UnsignedInt32 = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on every backend."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; maildesk stores aware times only")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    if TYPE_CHECKING:
        # Every class here is mapped to a Table of its own (DeclarativeBase says only
        # FromClause, which insert(), update() and InsertOrSkip do not take).
        __table__: ClassVar[Table]


class Counter(Base):
    """Named sequences incremented inside the transaction (ticket numbers on SQLite)."""

    __tablename__ = "counters"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, nullable=False)


class Blob(Base):
    """Content-addressed bytes: raw mails and attachments, stored once per hash."""

    __tablename__ = "blobs"
    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    data: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)


class Ticket(Base):
    __tablename__ = "tickets"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True, nullable=False)
    subject: Mapped[str] = mapped_column(Text, nullable=False, default="")
    status: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    priority: Mapped[str] = mapped_column(String(2), nullable=False)
    category: Mapped[str | None] = mapped_column(String(64))
    team: Mapped[str | None] = mapped_column(String(64))
    assignee: Mapped[str | None] = mapped_column(String(320))
    mailbox: Mapped[str | None] = mapped_column(String(64), index=True)  # came in by
    customer: Mapped[str] = mapped_column(String(320), nullable=False, index=True)
    locale: Mapped[str] = mapped_column(String(16), nullable=False)
    automatic: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    first_response_due: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    resolution_due: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution: Mapped[str | None] = mapped_column(Text)  # the summary of #resolve
    merged_into: Mapped[int | None] = mapped_column(Integer)  # the surviving ticket's id

    messages: Mapped[list["Message"]] = relationship(
        back_populates="ticket", order_by="Message.id"
    )


class TicketTag(Base):
    """A word an agent put on a ticket (#tag), for lists and reports."""

    __tablename__ = "ticket_tags"
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(64), primary_key=True)


class Participant(Base):
    """An address that takes part in a ticket (customer, Cc, writer): may follow its tag."""

    __tablename__ = "participants"
    __table_args__ = (UniqueConstraint("ticket_id", "address"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), nullable=False)
    address: Mapped[str] = mapped_column(String(320), nullable=False, index=True)
    role: Mapped[str] = mapped_column(String(16), nullable=False)


# One incoming copy per Message-ID, whichever worker stores it first.
INCOMING_MESSAGE_ID = "uq_messages_incoming_message_id"
_INCOMING_WITH_ID = text("direction = 'in' AND message_id IS NOT NULL")


class Message(Base):
    """One mail on a ticket, incoming or outgoing; `text` is the new text only."""

    __tablename__ = "messages"
    __table_args__ = (
        Index(
            INCOMING_MESSAGE_ID,
            "message_id",
            unique=True,
            sqlite_where=_INCOMING_WITH_ID,
            postgresql_where=_INCOMING_WITH_ID,
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), nullable=False, index=True)
    direction: Mapped[str] = mapped_column(String(3), nullable=False)
    mail_class: Mapped[str] = mapped_column(String(16), nullable=False)
    message_id: Mapped[str | None] = mapped_column(String(998), index=True)
    from_addr: Mapped[str] = mapped_column(String(320), nullable=False, default="")
    from_name: Mapped[str] = mapped_column(Text, nullable=False, default="")
    to_addrs: Mapped[str] = mapped_column(Text, nullable=False, default="")
    cc_addrs: Mapped[str] = mapped_column(Text, nullable=False, default="")
    subject: Mapped[str] = mapped_column(Text, nullable=False, default="")
    text: Mapped[str] = mapped_column(Text, nullable=False, default="")
    full_text: Mapped[str] = mapped_column(Text, nullable=False, default="")
    html: Mapped[str | None] = mapped_column(Text)
    raw_id: Mapped[int | None] = mapped_column(ForeignKey("blobs.id"))
    source: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    ticket: Mapped[Ticket] = relationship(back_populates="messages")
    attachments: Mapped[list["Attachment"]] = relationship(order_by="Attachment.id")


class SpentProof(Base):
    __tablename__ = "spent_proofs"  # the id that proved an agent's reply, its text's hash
    proof: Mapped[str] = mapped_column(String(998), primary_key=True)
    text_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    spent_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class Attachment(Base):
    __tablename__ = "attachments"
    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), nullable=False, index=True)
    filename: Mapped[str] = mapped_column(Text, nullable=False, default="")
    content_type: Mapped[str] = mapped_column(String(255), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    blob_id: Mapped[int | None] = mapped_column(ForeignKey("blobs.id"))
    inline: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=false()
    )
    content_id: Mapped[str | None] = mapped_column(String(998))


class OutboxMail(Base):
    """A rendered mail waiting to be sent (or sent); sending is a separate job."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    message_id: Mapped[str] = mapped_column(String(998), nullable=False, unique=True)
    sender: Mapped[str] = mapped_column(String(320), nullable=False)
    raw: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    recipients: Mapped[list["OutboxRecipient"]] = relationship(order_by="OutboxRecipient.position")


class OutboxRecipient(Base):
    """One envelope address of an outbox mail, in order: a list, never a string to split;
    with the mailbox and domain the loop budget counts (set `budget_at` when it does)."""

    __tablename__ = "outbox_recipients"
    __table_args__ = (
        Index("ix_outbox_recipients_mailbox", "mailbox", "budget_at"),
        Index("ix_outbox_recipients_domain", "domain", "budget_at"),
    )
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    address: Mapped[str] = mapped_column(Text, nullable=False)
    mailbox: Mapped[str] = mapped_column(Text, nullable=False)
    domain: Mapped[str] = mapped_column(Text, nullable=False)
    budget_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Event(Base):
    """Ticket history: what changed, when, and who did it."""

    __tablename__ = "events"
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    detail: Mapped[str] = mapped_column(Text, nullable=False, default="")
    actor: Mapped[str] = mapped_column(String(320), nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class Contact(Base):
    """An address we write to, and whether our mail to it bounces.

    A bouncing address gets no automatic mail until it writes to us again;
    the ticket view shows agents that the customer did not get our mail. An
    unsigned report waits in `unconfirmed_bounce` for one on another mail.
    """

    __tablename__ = "contacts"
    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(String(320), unique=True, nullable=False)
    bouncing: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    bouncing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_bounce_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    bounce_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_bounce_reason: Mapped[str | None] = mapped_column(Text)
    unconfirmed_bounce: Mapped[str | None] = mapped_column(String(998))
