"""The mail commands: `init`, `run`, `poll --once`, `import`, `stats`, `replay`, `demo`."""

import asyncio
import sys
from pathlib import Path
from typing import Any

import click
from sqlalchemy import select
from tqdm import tqdm

from maildesk.cli.main import MAILBOX_OPTION, State, check_mailbox
from maildesk.cli.output import print_json, print_table
from maildesk.intake import pipeline, poller, prefetch, sources
from maildesk.store import db
from maildesk.store.intake_tables import Quarantine
from maildesk.transport import outbox
from maildesk.views import records


@click.command()
@click.pass_obj
def init(state: State) -> None:
    """Create or upgrade the database schema (idempotent)."""
    app = state.app(require_schema=False)
    db.upgrade(app.engine)
    click.echo(f"database ready: {app.engine.url.render_as_string(hide_password=True)}")


@click.command()
@click.pass_obj
def run(state: State) -> None:
    """Run the daemon: intake (IDLE or poll), outbox, scheduled sweeps."""
    from maildesk.daemon.loop import Daemon

    Daemon(state.app()).run()


@click.command()
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


@click.command(name="import")
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


@click.command()
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


@click.command()
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


@click.command()
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
