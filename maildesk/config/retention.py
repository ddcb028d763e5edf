"""`[retention]`: how long the raw mail and the attachments of closed tickets are kept.

Off by default: the desk keeps everything until an operator chooses a period. The
tickets, their messages' text, events and the report's counts stay in any case;
only the bytes go (desk/retention.py).
"""

from dataclasses import dataclass

from maildesk.config.toml_table import Table
from maildesk.errors import ConfigError

KEYS = ("raw_mail_days", "attachment_days")


@dataclass(frozen=True)
class RetentionConfig:
    raw_mail_days: int | None = None  # a ticket closed this long loses its mails' raw bytes
    attachment_days: int | None = None  # ... and its attachments' bytes

    @property
    def enabled(self) -> bool:
        return self.raw_mail_days is not None or self.attachment_days is not None


def retention(t: Table | None) -> RetentionConfig:
    t = t or Table({}, "retention")
    days = {key: t.get(key, int, None) for key in KEYS}
    for key, value in days.items():
        if value is not None and value < 1:
            raise ConfigError(f"{t.key(key)}: must be a number of days, 1 or more, got {value}")
    t.reject_unknown()
    return RetentionConfig(**days)
