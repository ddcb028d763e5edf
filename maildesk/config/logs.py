"""`[log]`: how the process writes its log (text for people, JSON for a collector) and
from which level on."""

import logging
from dataclasses import dataclass

from maildesk.config.toml_table import Table

FORMATS = ("text", "json")
LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


@dataclass(frozen=True)
class LogConfig:
    format: str = "text"
    level: int = logging.INFO  # a number of the logging module; `-v` lowers it a step


def log(t: Table | None) -> LogConfig:
    t = t or Table({}, "log")
    default = LogConfig()
    found = LogConfig(
        format=t.choice("format", FORMATS, default.format),
        level=LEVELS[t.choice("level", tuple(LEVELS), "info")],
    )
    t.reject_unknown()
    return found
