"""The knowledge base's tables: articles, their versions, the tickets they came from,
and each use of one (suggested to a customer, accepted, sent as an agent's answer)."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from maildesk.store.tables import Base, UTCDateTime


class ArticleStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


class UseKind(StrEnum):
    SUGGESTED = "suggested"  # listed in the customer's acknowledgement
    ACCEPTED = "accepted"  # the customer replied "solved" to that acknowledgement
    ANSWER = "answer"  # an agent sent it with #answer


class Article(Base):
    """One article as it is now; every change before is a row of kb_versions."""

    __tablename__ = "kb_articles"
    id: Mapped[int] = mapped_column(primary_key=True)  # its number: `kb show N`, `#answer N`
    slug: Mapped[str] = mapped_column(String(80), unique=True, nullable=False)
    title: Mapped[str] = mapped_column(Text, nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)  # Markdown
    locale: Mapped[str] = mapped_column(String(16), nullable=False)
    category: Mapped[str | None] = mapped_column(String(64), index=True)
    tags: Mapped[str] = mapped_column(Text, nullable=False, default="")  # words, one space apart
    status: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    words: Mapped[str] = mapped_column(Text, nullable=False)  # as matching cuts them (index.cut)
    revision: Mapped[int] = mapped_column(Integer, nullable=False)  # its latest version's
    file: Mapped[str | None] = mapped_column(Text)  # the file of [kb] dir it is kept in
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class ArticleVersion(Base):
    """An article as one change left it: who, when, what it said."""

    __tablename__ = "kb_versions"
    __table_args__ = (UniqueConstraint("article_id", "revision"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_articles.id"), nullable=False)
    revision: Mapped[int] = mapped_column(Integer, nullable=False)
    title: Mapped[str] = mapped_column(Text, nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    author: Mapped[str] = mapped_column(String(320), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class ArticleTicket(Base):
    """A ticket an article came from (#kb on its reply)."""

    __tablename__ = "kb_article_tickets"
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_articles.id"), primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), primary_key=True)


class ArticleUse(Base):
    """An article put before a customer on a ticket, or accepted there."""

    __tablename__ = "kb_uses"
    __table_args__ = (Index("ix_kb_uses_ticket", "ticket_id", "kind"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("kb_articles.id"), nullable=False, index=True
    )
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    actor: Mapped[str] = mapped_column(String(320), nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
