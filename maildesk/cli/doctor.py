"""`maildesk doctor`: is this desk ready to run? One line per check, `ok | warn | FAIL`
and the reason in plain words; exit 0 when nothing failed, 1 otherwise.

The checks run in the order an operator fixes things: the file, its secrets,
the database, each mailbox and the SMTP server (through the same connect and
login code the daemon uses: transport/inbox.py, transport/smtp.py), then the
templates, the people, the calendars and the web listener. A server check stops
at its first failure, since what follows needs it.
"""

from collections.abc import Iterator

import click

from maildesk import config as config_module
from maildesk.cli import doctor_local, doctor_servers
from maildesk.cli.doctor_local import FAIL, OK, WARN, Check
from maildesk.cli.main import State
from maildesk.cli.output import print_json
from maildesk.config.cautions import cautions
from maildesk.errors import ConfigError

__all__ = ["FAIL", "OK", "WARN", "Check", "doctor"]


@click.command()
@click.option("--fix", is_flag=True, help="Create the missing Processed and Quarantine folders.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--send-test", metavar="ADDRESS", help="Also send one test mail to ADDRESS.")
@click.pass_obj
def doctor(state: State, fix: bool, as_json: bool, send_test: str | None) -> None:
    """Check the config, secrets, database, mailboxes, SMTP, templates and the rest."""
    found = []
    for check in checks(state.config_path, fix, send_test):
        found.append(check)
        if not as_json:  # as they come: a server that times out shows where it is
            click.echo(f"{check.status:<4} {check.name}: {check.detail}")
    failed = sum(check.status == FAIL for check in found)
    if as_json:
        print_json(
            {
                "ok": not failed,
                "failed": failed,
                "warnings": sum(check.status == WARN for check in found),
                "checks": [vars(check) for check in found],
            }
        )
    else:
        click.echo(f"{failed} failed" if failed else "nothing failed")
    click.get_current_context().exit(1 if failed else 0)


def checks(config_path: str | None, fix: bool, send_test: str | None) -> Iterator[Check]:
    path = config_module.resolve_path(config_path)
    try:
        config = config_module.load(path)
    except ConfigError as exc:
        yield Check("config", FAIL, str(exc))
        return
    servers = len(config.mailboxes) + (config.smtp is not None)
    yield Check("config", OK, f"{path}: every key known and valid ({servers} servers)")
    for caution in cautions(config):
        yield Check("config", WARN, caution)
    yield from doctor_local.secrets(config)
    yield doctor_local.database(config)
    for mailbox in config.mailboxes:
        yield from doctor_servers.mailbox(mailbox, fix)
    yield from doctor_servers.smtp_server(config, send_test)
    yield doctor_local.templates(config)
    yield from doctor_local.people(config)
    yield doctor_local.calendars(config)
    yield from doctor_local.web(config)
