"""The desk as one unit of work sees it: settings, templates, subject tag, keys, calendars,
the reactions to ticket events, the knowledge base's index, and the unit's own Batch.

`maildesk.app.App` builds one per unit of work (`App.desk`); the desk names
only this, so it never imports the layer that builds it (the import-linter
contracts in pyproject.toml).
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from maildesk.config import Config
from maildesk.desk.batch import Batch
from maildesk.desk.calendar import Clockwork
from maildesk.desk.events import TicketEvent
from maildesk.desk.templates import Templates
from maildesk.kb.knowledge import Knowledge
from maildesk.mail.keys import Keys
from maildesk.mail.subject_tag import SubjectTag

Reaction = Callable[[Session, "Desk", Any, datetime], None]
Reactions = Mapping[type, tuple[Reaction, ...]]


@dataclass(frozen=True)
class Desk:
    """What a desk function reads, and where its events go; never the engine or the parser."""

    config: Config
    templates: Templates
    tag: SubjectTag
    keys: Keys  # the desk secret's: the first signs, all verify
    calendars: Mapping[str, Clockwork]  # by name, from [[calendars]]
    reactions: Reactions  # by event type, in order (subscriptions.py)
    knowledge: Knowledge = field(default_factory=Knowledge)  # the process's article index
    batch: Batch = field(default_factory=Batch)

    def unit(self) -> "Desk":
        """The same desk for the next unit of work, with a Batch of its own."""
        return replace(self, batch=Batch())

    def emit(self, session: Session, event: TicketEvent, now: datetime) -> None:
        """Run the reactions subscribed to `event`, in their order."""
        for reaction in self.reactions.get(type(event), ()):
            reaction(session, self, event, now)
