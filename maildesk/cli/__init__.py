"""The command line: main.py holds the group and the mail commands; each other module
adds one group of commands (tickets, sla, templates, kb) to it when imported here."""

from maildesk.cli import kb, report, sla, templates, tickets
from maildesk.cli.main import cli, main

__all__ = ["cli", "kb", "main", "report", "sla", "templates", "tickets"]
