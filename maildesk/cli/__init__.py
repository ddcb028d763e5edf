"""The command line: main.py holds the group and the mail commands; each other module
adds one group of commands (tickets, sla, templates, kb, oauth, outbox, contacts) or one command
(doctor, backup, status: outbox.py) to it when imported here."""

from maildesk.cli import (
    backup,
    contacts,
    doctor,
    kb,
    oauth,
    outbox,
    report,
    sla,
    templates,
    tickets,
)
from maildesk.cli.main import cli, main

__all__ = [
    "backup",
    "cli",
    "contacts",
    "doctor",
    "kb",
    "main",
    "oauth",
    "outbox",
    "report",
    "sla",
    "templates",
    "tickets",
]
