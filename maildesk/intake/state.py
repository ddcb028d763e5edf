"""What the intake steps know about the mail in hand: one typed `Intake` per mail.

What a step sets for the steps after it (the mail, its ticket, its rows) is
a `SetBy` attribute: read before its step has run, it says so by name, so a
step moved out of order fails at once and plainly, and the type is never None.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar, overload

from sqlalchemy.orm import Session

from maildesk.config import AgentConfig, MailboxConfig
from maildesk.desk import returned
from maildesk.desk.context import Desk
from maildesk.kb.index import Hit
from maildesk.mail.classify import MailClass
from maildesk.mail.message import Incoming
from maildesk.sandbox.worker import Unparseable
from maildesk.store.tables import Ticket

T = TypeVar("T")


class SetBy(Generic[T]):
    """An attribute that step `step` sets; reading it earlier is an error naming both."""

    def __init__(self, step: str) -> None:
        self.step = step

    def __set_name__(self, owner: type, name: str) -> None:
        self.name, self.slot = name, f"_{name}"

    @overload
    def __get__(self, instance: None, owner: type) -> "SetBy[T]": ...
    @overload
    def __get__(self, instance: object, owner: type) -> T: ...
    def __get__(self, instance: object | None, owner: type) -> Any:
        if instance is None:
            return self
        value = getattr(instance, self.slot, None)
        if value is None:
            raise LookupError(f"intake read {self.name} before {self.step} set it")
        return value

    def __set__(self, instance: object, value: T) -> None:
        setattr(instance, self.slot, value)


@dataclass
class Intake:
    """What the steps know about the mail in hand."""

    raw_id = SetBy[int]("store_raw")
    mail = SetBy[Incoming]("parse_mail")
    ticket = SetBy[Ticket]("open_ticket")  # the ticket the mail is on
    stored = SetBy[int]("store_message")  # the messages row of this mail

    raw: bytes
    source: str
    now: datetime
    mailbox: MailboxConfig | None = None  # the one it came in by; None for import
    parsed: Incoming | Unparseable | None = None  # by prefetch, ahead of the steps
    raw_stored: int | None = None  # the raw bytes' blob, stored with the batch's
    mail_class: MailClass = MailClass.HUMAN
    found: Ticket | None = None  # the ticket the mail continues (find_ticket, a proof)
    is_new: bool = False
    uncopied: tuple[str, ...] = ()  # its Cc's that it may not copy on answers (copies.py)
    rejected: list[str] = field(default_factory=list)
    claimed: AgentConfig | None = None  # the agent the From names, proven or not
    agent: AgentConfig | None = None  # a proven agent's reply (proof.py)
    refusal: str | None = None  # why a mail from an agent's address is not theirs
    finished: bool = False  # a step handled the mail completely: the rest do not run
    follows: Ticket | None = None  # the closed ticket a new one continues
    rated: bool = False  # the mail answers the ticket's satisfaction survey
    self_served: bool = False  # the customer's "solved" to the articles suggested
    articles: list[Hit] = field(default_factory=list)  # published ones matching the mail
    returns: returned.Verdict | None = None  # what a bounce's return path proves (None: unset)

    @property
    def answers_desk(self) -> bool:
        """The mail answers the desk's own mail (its survey, its suggestions): no question
        for the agents, no acknowledgement, no reopening."""
        return self.rated or self.self_served


Step = Callable[[Intake, Desk, Session], None]
