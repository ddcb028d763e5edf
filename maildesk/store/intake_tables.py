"""What intake keeps of the mailboxes: a receipt per fetched mail, a cursor per
mailbox, the time of each mailbox's last successful poll, and the quarantine of
mail that could not be processed."""

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from maildesk.store.tables import Base, Blob, UnsignedInt32, UTCDateTime


class Receipt(Base):
    """One fetched IMAP message: makes intake idempotent across crashes and re-fetches."""

    __tablename__ = "receipts"
    __table_args__ = (UniqueConstraint("mailbox", "uidvalidity", "uid"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    mailbox: Mapped[str] = mapped_column(String(512), nullable=False)
    uidvalidity: Mapped[int] = mapped_column(UnsignedInt32, nullable=False)
    uid: Mapped[int] = mapped_column(UnsignedInt32, nullable=False)
    outcome: Mapped[str] = mapped_column(String(16), nullable=False)


class Cursor(Base):
    """Per-mailbox high-water mark: UIDVALIDITY and the last UID handled."""

    __tablename__ = "cursors"
    mailbox: Mapped[str] = mapped_column(String(512), primary_key=True)
    uidvalidity: Mapped[int] = mapped_column(UnsignedInt32, nullable=False)
    last_uid: Mapped[int] = mapped_column(UnsignedInt32, nullable=False)


class MailboxPoll(Base):
    """When a mailbox (by its configured name) last completed a poll cycle, mail or none:
    in the database, so `status`, `/readyz` and `/metrics` of any worker see it."""

    __tablename__ = "mailbox_polls"
    mailbox: Mapped[str] = mapped_column(String(512), primary_key=True)
    polled_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class Quarantine(Base):
    """A mail that could not be processed: raw bytes and the reason, for `replay`."""

    __tablename__ = "quarantine"
    id: Mapped[int] = mapped_column(primary_key=True)
    raw_id: Mapped[int] = mapped_column(ForeignKey("blobs.id"), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    source: Mapped[str] = mapped_column(String(255), nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    replayed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    raw: Mapped[Blob] = relationship()
