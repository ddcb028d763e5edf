"""The command line: main.py holds the group and the table of commands; each other module
holds one group of commands (tickets, sla, templates, kb, oauth, outbox,
contacts) or a few commands
(mail.py: init, run, poll, import, stats, replay, demo; doctor; report; backup; status: outbox.py),
imported when one of its commands runs."""

from maildesk.cli.main import cli, main

__all__ = ["cli", "main"]
