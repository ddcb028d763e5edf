"""The command line: main.py holds the group and the mail commands; each other module
adds one group of commands (tickets, sla, templates, kb, oauth) or one command (doctor)
to it when imported here."""

from maildesk.cli import doctor, kb, oauth, report, sla, templates, tickets
from maildesk.cli.main import cli, main

__all__ = ["cli", "doctor", "kb", "main", "oauth", "report", "sla", "templates", "tickets"]
