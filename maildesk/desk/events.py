"""What happens to a ticket, as tickets.py announces it: one event per change.

tickets.py is the one place that changes a ticket; after each change it
emits one of these to the desk (context.py), which runs the reactions that
subscribe to it, in the order subscriptions.py lists them. So what follows a
change (SLA clocks, the survey, the customer's status mail) is decided there,
once, and never again at the places that make the change.
"""

from dataclasses import dataclass
from enum import StrEnum

from maildesk.config import AgentConfig
from maildesk.store.tables import Ticket


class Cause(StrEnum):
    """Who moved a ticket's status, which decides whom it is news to."""

    AGENT = "agent"  # a command by mail, or `tickets update`
    CUSTOMER = "customer"  # their follow-up, their survey answer
    SELF_SERVICE = "self_service"  # the customer's "solved" to the articles suggested
    WINDOW = "window"  # the survey window ended: the standards' last step


@dataclass(frozen=True)
class Opened:
    ticket: Ticket


@dataclass(frozen=True)
class StatusChanged:
    ticket: Ticket
    before: str
    cause: Cause


@dataclass(frozen=True)
class TargetsChanged:
    """Priority or team changed, so the SLA targets may have: `why` names what and from."""

    ticket: Ticket
    why: str


@dataclass(frozen=True)
class Assigned:
    ticket: Ticket


@dataclass(frozen=True)
class AgentWrote:
    """A proven agent's mail on the ticket; `answered`: it went on to the customer."""

    ticket: Ticket
    agent: AgentConfig
    answered: bool


@dataclass(frozen=True)
class Merged:
    ticket: Ticket
    survivor: Ticket


TicketEvent = Opened | StatusChanged | TargetsChanged | Assigned | AgentWrote | Merged
