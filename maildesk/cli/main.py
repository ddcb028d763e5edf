"""The command line (click): the group, the state it passes down, the mail commands.

Exit codes: 0 ok, 1 a check failed, 2 usage or config error, 75 a server
could not be reached (EX_TEMPFAIL, try again later).
"""

import asyncio
import sys
from pathlib import Path
from typing import Any

import click
from sqlalchemy import select
from tqdm import tqdm

from maildesk import config as config_module
from maildesk import logs
from maildesk.app import App, start_up
from maildesk.cli.output import print_json, print_table
from maildesk.config import Config, MailboxConfig
from maildesk.errors import MaildeskError
from maildesk.intake import pipeline, poller, prefetch, sources
from maildesk.store import db
from maildesk.store.intake_tables import Quarantine
from maildesk.transport import outbox
from maildesk.views import records


class _Group(click.Group):
    """Turns MaildeskError into a one-line message and its exit code."""

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

    def config(self) -> Config:
        """The config file read, and the log set as its `[log]` says."""
        config = config_module.load(config_module.resolve_path(self.config_path))
        logs.follow(config.log, self.verbose)
        return config

    def app(self, require_schema: bool = True) -> App:
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
    ctx.with_resource(logs.to_stderr(verbose))
    start_up()
    ctx.obj = State(config_path, verbose)
    ctx.call_on_close(ctx.obj.close)


@cli.command()
@click.pass_obj
def init(state: State) -> None:
    """Create or upgrade the database schema (idempotent)."""
    app = state.app(require_schema=False)
    db.upgrade(app.engine)
    click.echo(f"database ready: {app.engine.url.render_as_string(hide_password=True)}")


@cli.command()
@click.pass_obj
def run(state: State) -> None:
    """Run the daemon: intake (IDLE or poll), outbox, scheduled sweeps."""
    from maildesk.daemon.loop import Daemon

    Daemon(state.app()).run()


@cli.command()
@click.option("--once", is_flag=True, required=True, help="One full cycle, then exit.")
@click.pass_obj
def poll(state: State, once: bool) -> None:
    """Fetch and process new mail, send the outbox, exit."""
    app = state.app()
    result = poller.poll_once(app)
    handled = ", ".join(f"{n} {outcome}" for outcome, n in result.outcomes.items()) or "none"
    click.echo(f"mail: {handled}")
    if app.config.smtp:
        _echo_drain(asyncio.run(outbox.drain(app)))


def _echo_drain(result: outbox.DrainResult) -> None:
    click.echo(f"outbox: {result.sent} sent, {result.deferred} deferred, {result.failed} failed")


@cli.command(name="import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--send", is_flag=True, help="Also send the acknowledgements now.")
@click.pass_obj
def import_(state: State, paths: tuple[Path, ...], send: bool) -> None:
    """Import mbox files, Maildir folders or .eml files through the pipeline."""
    app = state.app()
    counts: dict[str, int] = {}
    for path in paths:
        bar = tqdm(
            total=sources.count(path),
            unit="mail",
            desc=path.name,
            disable=not sys.stderr.isatty(),
        )
        with bar:  # each batch is one transaction (pipeline.process_batch)
            for batch in prefetch.parsed_batches(app.parser, sources.read(path)):
                pending = [pipeline.Pending(i.raw, f"import:{i.label}", mail) for i, mail in batch]
                for outcome in pipeline.process_batch(app, pending):
                    counts[outcome] = counts.get(outcome, 0) + 1
                bar.update(len(batch))
    click.echo("imported: " + (", ".join(f"{n} {o}" for o, n in counts.items()) or "nothing"))
    if send:
        _echo_drain(asyncio.run(outbox.drain(app)))


MAILBOX_OPTION = click.option("--mailbox", help="Only tickets that came in by this mailbox.")


def check_mailbox(app: App, name: str | None) -> MailboxConfig | None:
    """The configured mailbox called `name`; an unknown name is an error, not an empty list."""
    if name is None:
        return None
    found = app.config.mailbox(name)
    if found is None:
        names = ", ".join(m.name for m in app.config.mailboxes) or "none"
        raise MaildeskError(f"--mailbox: no mailbox called {name!r} (configured: {names})")
    return found


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@MAILBOX_OPTION
@click.pass_obj
def stats(state: State, as_json: bool, mailbox: str | None) -> None:
    """Counts of tickets, messages, quarantine and outbox."""
    app = state.app()
    found = check_mailbox(app, mailbox)
    prefix = poller.source_prefix(found) if found else None
    with db.transaction(app.sessions) as session:
        data = records.stats(session, mailbox, prefix)
    if as_json:
        print_json(data)
        return
    print_table(("what", "count"), ((key, _counts(value)) for key, value in data.items()))


def _counts(value: Any) -> str:
    """A count, or a breakdown as `open 3  pending 1` (one cell of the stats table)."""
    if isinstance(value, dict):
        return "  ".join(f"{key} {count}" for key, count in value.items()) or "-"
    return str(value)


@cli.command()
@click.argument("ids", nargs=-1, type=int)
@click.pass_obj
def replay(state: State, ids: tuple[int, ...]) -> None:
    """Re-run quarantined mail (all, or the given quarantine ids) after a fix."""
    app = state.app()
    with db.transaction(app.sessions) as session:
        query = select(Quarantine).where(Quarantine.replayed_at.is_(None))
        if ids:
            query = query.where(Quarantine.id.in_(ids))
        rows = [(row, row.raw.data) for row in session.scalars(query.order_by(Quarantine.id))]
    for row, raw in rows:
        mailbox = poller.mailbox_of(app.config, row.source)
        outcome = pipeline.process(app, raw, f"replay:{row.id}", quarantined=row, mailbox=mailbox)
        click.echo(f"quarantine #{row.id}: {outcome}")
    if not rows:
        click.echo("nothing to replay")


@cli.command()
@click.option(
    "--keep",
    type=click.Path(file_okay=False, path_type=Path),
    help="Keep the demo's database and config in this folder, to go on with the commands.",
)
def demo(keep: Path | None) -> None:
    """The life of two tickets on embedded IMAP + SMTP servers: mail in, an agent's
    answer, an SLA escalation, a survey, the report. Exits 1 if a step did not happen."""
    from maildesk.demo.run import run_demo

    if not run_demo(keep):
        raise SystemExit(1)


def main() -> None:
    cli(prog_name="maildesk")
