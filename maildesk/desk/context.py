"""What the domain needs of the wiring: settings, templates, subject tag, secret, calendars.

`maildesk.app.App` provides it; the desk names only this, so it never imports
the layer that builds it (the import-linter contracts in pyproject.toml).
"""

from collections.abc import Mapping
from typing import Protocol

from maildesk.config import Config
from maildesk.desk.sla.calendar import Clockwork
from maildesk.desk.templates import Templates
from maildesk.mail.subject_tag import SubjectTag


class Desk(Protocol):
    """The settings and tools a desk function reads; never the engine or the parser."""

    config: Config
    templates: Templates
    tag: SubjectTag
    secret: str
    calendars: Mapping[str, Clockwork]  # by name, from [[calendars]]
