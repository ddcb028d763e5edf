"""The tables the sweeps act on: SLA clocks and their ledger, digests sent, surveys,
the staff notices held back per sender.

Each holds its next deadline in an indexed column, so an interval sweep finds
what is due with one index probe (design.md: deadlines are data).
"""

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from maildesk.store.tables import Base, UTCDateTime


class ClockState(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"  # pending: waiting on the customer
    MET = "met"  # answered, resolved (or, for review, looked at)
    STOPPED = "stopped"  # the ticket closed or merged before the clock was met


class SlaClock(Base):
    """One SLA clock of a ticket, as it stands now; sla_events holds how it got here.

    `next_at` is the next moment the sweep must look at this clock (the next
    ladder level or the breach), indexed so a sweep with nothing due costs one
    index probe. `ladder_share` is the highest level (in % of the target)
    handled in this `run`: it only grows, so a level fires once per run.
    """

    __tablename__ = "sla_clocks"
    __table_args__ = (
        UniqueConstraint("ticket_id", "clock"),
        # The breached clocks that `status` and each /metrics scrape count, without a scan.
        Index("ix_sla_clocks_breached", "breached_at", "state"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), nullable=False)
    clock: Mapped[str] = mapped_column(String(16), nullable=False)
    state: Mapped[str] = mapped_column(String(8), nullable=False)
    run: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    target_seconds: Mapped[float] = mapped_column(Float, nullable=False)
    calendar: Mapped[str] = mapped_column(String(64), nullable=False)  # or "24x7"
    used_seconds: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    running_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ladder_share: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)


# One firing of a ladder level per ticket, clock and run, whichever worker is first.
LEVEL_FIRED = "uq_sla_events_level"
_LEVEL_EVENT = text("kind = 'level'")


class SlaEvent(Base):
    """The SLA ledger: started, paused, resumed, met, breached, recomputed, level, stopped.

    Any due time can be recomputed from these rows (desk/sla/ledger.py) and audited.
    """

    __tablename__ = "sla_events"
    __table_args__ = (
        Index(
            LEVEL_FIRED,
            "ticket_id",
            "clock",
            "run",
            "level",
            unique=True,
            sqlite_where=_LEVEL_EVENT,
            postgresql_where=_LEVEL_EVENT,
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), nullable=False, index=True)
    clock: Mapped[str] = mapped_column(String(16), nullable=False)
    run: Mapped[int] = mapped_column(Integer, nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    level: Mapped[str | None] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    late: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    detail: Mapped[str] = mapped_column(Text, nullable=False, default="")


class DigestSent(Base):
    """One daily digest per agent and day, whichever worker sends it."""

    __tablename__ = "sla_digests"
    agent: Mapped[str] = mapped_column(String(320), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)


class SurveyState(StrEnum):
    SCHEDULED = "scheduled"  # waits for send_at
    SENT = "sent"
    ANSWERED = "answered"  # rated (it may change until the ticket closes)
    SKIPPED = "skipped"  # not sent: reopened, merged, spam, bouncing, cooldown
    EXPIRED = "expired"  # the window ended unanswered; the ticket closed


class Survey(Base):
    """The satisfaction survey of one resolution of a ticket.

    `due_at` is the next moment the survey sweep must look (the send, then
    the end of the window), indexed like sla_clocks.next_at.
    """

    __tablename__ = "surveys"
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), nullable=False, index=True)
    customer: Mapped[str] = mapped_column(String(320), nullable=False, index=True)
    agent: Mapped[str | None] = mapped_column(String(320))  # the assignee at resolution
    team: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), nullable=False)
    resolved_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rating: Mapped[int | None] = mapped_column(Integer)  # 1..5
    solved: Mapped[bool | None] = mapped_column(Boolean)  # False: "not solved"
    comment: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    detail: Mapped[str] = mapped_column(Text, nullable=False, default="")  # why skipped
    leads_told_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # of a low score


class SenderNotices(Base):
    """One sender's staff notices in its current hour (desk/notice_cap.py): how many it
    caused (`counted`, told or held), and those held past the cap, to be told in one
    notice at `due_at`.

    `held_to` are the agents' addresses the held notices were for, `held_tickets` the
    first ticket numbers they were on (space-separated); `ticket_id` is the last one,
    which the folded notice is sent on. `due_at` is indexed like surveys.due_at.
    """

    __tablename__ = "sender_notices"
    id: Mapped[int] = mapped_column(primary_key=True)
    sender: Mapped[str] = mapped_column(String(320), nullable=False, unique=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    counted: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    held: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    held_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    held_to: Mapped[str] = mapped_column(Text, nullable=False, default="")
    held_tickets: Mapped[str] = mapped_column(Text, nullable=False, default="")
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
