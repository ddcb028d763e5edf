"""What the intake steps know about the mail in hand: one typed `Intake` per mail."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from maildesk.app import App
from maildesk.config import AgentConfig, MailboxConfig
from maildesk.desk import returned
from maildesk.mail.classify import MailClass
from maildesk.mail.message import Incoming
from maildesk.sandbox.worker import Unparseable
from maildesk.store.tables import Ticket


@dataclass
class Intake:
    """What the steps know about the mail in hand."""

    raw: bytes
    source: str
    now: datetime
    mailbox: MailboxConfig | None = None  # the one it came in by; None for import
    raw_id: int | None = None
    parsed: Incoming | Unparseable | None = None  # by prefetch, ahead of the steps
    mail: Incoming | None = None
    mail_class: MailClass = MailClass.HUMAN
    ticket: Ticket | None = None
    is_new: bool = False
    stored: int | None = None  # the messages row of this mail
    uncopied: tuple[str, ...] = ()  # its Cc's that it may not copy on answers (copies.py)
    rejected: list[str] = field(default_factory=list)
    agent: AgentConfig | None = None  # a proven agent's reply (proof.py)
    refusal: str | None = None  # why a mail from an agent's address is not theirs
    finished: bool = False  # a step handled the mail completely: the rest do not run
    follows: Ticket | None = None  # the closed ticket a new one continues
    rated: bool = False  # the mail answers the ticket's satisfaction survey
    returns: returned.Verdict | None = None  # what a bounce's return path proves (None: unset)


Step = Callable[[Intake, App, Session], None]
