"""The process's log output: one handler on the root logger, text or JSON (`[log]`).

Why python-json-logger over stdlib logging, not structlog: every module (and
every library under it: SQLAlchemy, APScheduler, aiosmtplib) already logs
through `logging.getLogger(__name__)`, so only the formatter has to change.
A line's fields are `extra=` on an ordinary call (`event="mail_in"`, `ticket`,
`ms` ...); the JSON formatter writes them as keys, the text formatter as
`key=value` after the message, so both formats carry the same facts.
"""

import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

from maildesk.config.logs import LogConfig

HANDLER_NAME = "maildesk"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Without a config file (`--help`, a config error) only warnings and errors show.
BEFORE_CONFIG = LogConfig(format="text", level=logging.WARNING)
_NOT_FIELDS = frozenset(RESERVED_ATTRS) | {"taskName"}


class TextFormatter(logging.Formatter):
    """The classic line, then the record's fields as `key=value` (quoted when they must be)."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        pairs = [f"{key}={_text_value(value)}" for key, value in fields(record).items()]
        if not pairs:
            return line
        head, newline, trace = line.partition("\n")  # the fields stay on the first line
        return f"{head} {' '.join(pairs)}{newline}{trace}"


def fields(record: logging.LogRecord) -> dict[str, Any]:
    """What the call passed as `extra=`: every attribute a plain record does not have."""
    return {k: v for k, v in record.__dict__.items() if k not in _NOT_FIELDS}


def _text_value(value: object) -> str:
    if value is None:
        return "-"
    text = str(value)
    if not text or any(c.isspace() or c in '"=' for c in text):
        return json.dumps(text, ensure_ascii=False)
    return text


def json_formatter() -> logging.Formatter:
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, the fields."""
    return JsonFormatter(
        "%(levelname)s %(name)s %(message)s",
        rename_fields={"levelname": "level", "name": "logger"},
        timestamp="time",
        json_ensure_ascii=False,
    )


@contextmanager
def to_stderr(verbose: int) -> Iterator[None]:
    """The command's log on stderr, for as long as the command runs; `follow` then sets it
    from the config. Removed at the end, so a command run in-process leaves no trace."""
    root = logging.getLogger()
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(HANDLER_NAME)
    level_before = root.level
    root.addHandler(handler)
    follow(BEFORE_CONFIG, verbose)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(level_before)


def follow(config: LogConfig, verbose: int) -> None:
    """Format and level from `config`, each `-v` one level more verbose (down to debug).

    Outside a command (`to_stderr`), the caller's logging stays as it is (tests, the demo).
    """
    root = logging.getLogger()
    handler = next((h for h in root.handlers if h.get_name() == HANDLER_NAME), None)
    if handler is None:
        return
    handler.setFormatter(json_formatter() if config.format == "json" else TextFormatter())
    root.setLevel(max(config.level - 10 * verbose, logging.DEBUG))
