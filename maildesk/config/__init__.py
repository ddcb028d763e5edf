"""Typed settings from one TOML file: `load` it, pass the frozen `Config` down.

settings.py holds the dataclasses, loading.py reads and checks the file,
toml_table.py the typed table access whose errors name the key.
"""

from maildesk.config.loading import load, parse, resolve_path
from maildesk.config.settings import (
    PRIORITIES,
    AgentConfig,
    AgentMailConfig,
    BouncesConfig,
    Config,
    DatabaseConfig,
    DeskConfig,
    ImapConfig,
    IntakeConfig,
    LoopsConfig,
    MailboxConfig,
    OutboxConfig,
    Rule,
    Secret,
    SmtpConfig,
    TeamConfig,
    Trust,
)

__all__ = [
    "PRIORITIES",
    "AgentConfig",
    "AgentMailConfig",
    "BouncesConfig",
    "Config",
    "DatabaseConfig",
    "DeskConfig",
    "ImapConfig",
    "IntakeConfig",
    "LoopsConfig",
    "MailboxConfig",
    "OutboxConfig",
    "Rule",
    "Secret",
    "SmtpConfig",
    "TeamConfig",
    "Trust",
    "load",
    "parse",
    "resolve_path",
]
