"""The command line: main.py holds the group and the mail commands; each other module
adds one group of commands (tickets, sla) to it when imported here."""

from maildesk.cli import sla, tickets
from maildesk.cli.main import cli, main

__all__ = ["cli", "main", "sla", "tickets"]
