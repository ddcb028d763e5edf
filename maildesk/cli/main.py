"""The command line (click): the group, the state it passes down, the table of commands.

A command's module is imported when the command runs, not when the group is:
`maildesk tickets list` loads the database and the desk but not the IMAP and
SMTP clients, and `maildesk --help` loads none of them (the summaries are in
COMMANDS; a test holds them equal to the commands' own).

Exit codes: 0 ok, 1 a check failed, 2 usage or config error, 75 a server
could not be reached (EX_TEMPFAIL, try again later).
"""

import importlib
from typing import TYPE_CHECKING, Any, NamedTuple

import click
from click.utils import make_default_short_help

from maildesk import logs
from maildesk.errors import MaildeskError

if TYPE_CHECKING:
    from maildesk.app import App
    from maildesk.config import Config, MailboxConfig


class Entry(NamedTuple):
    """Where a command lives (module under maildesk.cli, attribute) and the first sentence
    of its help, which `maildesk --help` shows."""

    module: str
    attribute: str
    summary: str


COMMANDS = {
    "backup": Entry(
        "backup",
        "backup",
        "Copy the SQLite database to the new file PATH while the desk runs (PostgreSQL:"
        " says the pg_dump command, exit 2).",
    ),
    "contacts": Entry(
        "contacts",
        "contacts",
        "The people who write to the desk: erase one, or export what the desk holds.",
    ),
    "demo": Entry(
        "mail",
        "demo",
        "The life of two tickets on embedded IMAP + SMTP servers: mail in, an agent's answer,"
        " an SLA escalation, a survey, the report.",
    ),
    "doctor": Entry(
        "doctor",
        "doctor",
        "Check the config, secrets, database, mailboxes, SMTP, templates and the rest.",
    ),
    "import": Entry(
        "mail", "import_", "Import mbox files, Maildir folders or .eml files through the pipeline."
    ),
    "init": Entry("mail", "init", "Create or upgrade the database schema (idempotent)."),
    "kb": Entry(
        "kb", "kb", "The knowledge base: articles agents write and customers are suggested."
    ),
    "oauth": Entry("oauth", "oauth", "OAuth2 sign-in of mailboxes and SMTP."),
    "outbox": Entry(
        "outbox", "outbox", "Outgoing mail: what waits, what was sent, what failed and why."
    ),
    "poll": Entry("mail", "poll", "Fetch and process new mail, send the outbox, exit."),
    "replay": Entry(
        "mail", "replay", "Re-run quarantined mail (all, or the given quarantine ids) after a fix."
    ),
    "report": Entry(
        "report",
        "report",
        "Tickets, response times, SLA, escalations, satisfaction, tags of tickets opened in a"
        " period (local dates of the desk's time zone; automatic tickets left out).",
    ),
    "run": Entry(
        "mail", "run", "Run the daemon: intake (IDLE or poll), outbox, scheduled sweeps."
    ),
    "sla": Entry("sla", "sla", "Service levels: what will warn, breach or escalate."),
    "stats": Entry("mail", "stats", "Counts of tickets, messages, quarantine and outbox."),
    "status": Entry(
        "outbox",
        "status",
        "The outbox, tickets by status, SLA breaches, the quarantine and each mailbox's last"
        " successful poll, now.",
    ),
    "templates": Entry(
        "templates",
        "templates",
        "Mail templates: whose file is sent, checks, previews, variables.",
    ),
    "tickets": Entry("tickets", "tickets", "Look at tickets."),
}


class _Group(click.Group):
    """Loads each command of COMMANDS from its module when asked for it (a command added
    with `@cli.command()` is listed too); turns MaildeskError into a one-line message and
    its exit code."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return super().get_command(ctx, cmd_name)
        module = importlib.import_module(f"maildesk.cli.{entry.module}")
        command: click.Command = getattr(module, entry.attribute)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """click's own listing, from the summaries: no command module is imported."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(map(len, names))
        with formatter.section("Commands"):
            formatter.write_dl([(name, self._summary(name, limit)) for name in names])

    def _summary(self, name: str, limit: int) -> str:
        entry = COMMANDS.get(name)
        if entry is None:
            return self.commands[name].get_short_help_str(limit)
        return make_default_short_help(entry.summary, limit)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except MaildeskError as exc:
            click.echo(f"maildesk: {exc}", err=True)
            ctx.exit(exc.exit_code)


class State:
    def __init__(self, config_path: str | None, verbose: int = 0) -> None:
        self.config_path = config_path
        self.verbose = verbose
        self._app: App | None = None

    def config(self) -> "Config":
        """The config file read, and the log set as its `[log]` says."""
        from maildesk import config as config_module

        config = config_module.load(config_module.resolve_path(self.config_path))
        logs.follow(config.log, self.verbose)
        return config

    def app(self, require_schema: bool = True) -> "App":
        from maildesk.app import App
        from maildesk.store import db

        if self._app is None:
            self._app = App.build(self.config())
            if require_schema:
                db.require_current(self._app.engine)
        return self._app

    def close(self) -> None:
        """The app's connections and parse child closed, when a command built it."""
        if self._app is not None:
            self._app.close()
            self._app = None


@click.group(cls=_Group)
@click.option(
    "--config",
    "config_path",
    metavar="PATH",
    help="Config file (default: $MAILDESK_CONFIG, else ./maildesk.toml).",
)
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.version_option(package_name="maildesk")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, verbose: int) -> None:
    """maildesk: an email-driven support ticketing daemon."""
    from maildesk.app import start_up

    ctx.with_resource(logs.to_stderr(verbose))
    start_up()
    ctx.obj = State(config_path, verbose)
    ctx.call_on_close(ctx.obj.close)


MAILBOX_OPTION = click.option("--mailbox", help="Only tickets that came in by this mailbox.")


def check_mailbox(app: "App", name: str | None) -> "MailboxConfig | None":
    """The configured mailbox called `name`; an unknown name is an error, not an empty list."""
    if name is None:
        return None
    found = app.config.mailbox(name)
    if found is None:
        names = ", ".join(m.name for m in app.config.mailboxes) or "none"
        raise MaildeskError(f"--mailbox: no mailbox called {name!r} (configured: {names})")
    return found


def main() -> None:
    cli(prog_name="maildesk")
