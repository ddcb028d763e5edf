"""`backup PATH`: a consistent copy of the SQLite database, safe while the daemon runs;
for PostgreSQL it prints the pg_dump command to use instead and exits 2."""

from pathlib import Path

import click

from maildesk.cli.main import State
from maildesk.store import backup as store_backup


@click.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def backup(state: State, path: Path) -> None:
    """Copy the SQLite database to the new file PATH while the desk runs (PostgreSQL:
    says the pg_dump command, exit 2). The README says how to restore it."""
    copied = store_backup.backup(state.app().engine, path)
    click.echo(f"backup written: {copied.path} ({copied.size} bytes)")
