"""`contacts forget EMAIL | export EMAIL`: one person's data erased, or handed to them.

The address matches as mail does: the local part as written, the domain in
any case. An address the desk has nothing of exits 1 (naming the stored
addresses that differ only in the local part's case, if any).
"""

import getpass
import json
import sys
from pathlib import Path

import click
from sqlalchemy.orm import Session

from maildesk.cli.main import State
from maildesk.desk import erasure, person
from maildesk.store import db
from maildesk.views import contact_export

JSON_FILE, MBOX_FILE = "contact.json", "mail.mbox"


@click.group()
def contacts() -> None:
    """The people who write to the desk: erase one, or export what the desk holds."""


def _find(session: Session, address: str) -> person.Person:
    found = person.find(session, address)
    if not found.is_found():
        hint = f" (stored: {', '.join(found.near)}; the local part's case counts)"
        click.echo(f"maildesk: nothing stored of {address}{hint if found.near else ''}", err=True)
        raise SystemExit(1)
    return found


@contacts.command(name="forget")
@click.argument("address")
@click.option("--by", help="Who asked for it, for the event (default: the OS user).")
@click.option("--yes", is_flag=True, help="Do not ask; needed without a terminal.")
@click.pass_obj
def contacts_forget(state: State, address: str, by: str | None, yes: bool) -> None:
    """Erase one person: their mails' text, bytes, attachments no other ticket uses, their
    name and address, their contact; their tickets stay as anonymous counts."""
    app = state.app()
    with db.transaction(app.sessions) as session:
        found = _find(session, address)
    summary = (
        f"{address}: {len(found.own_tickets)} tickets of theirs, "
        f"{len(found.other_tickets)} others they are on"
    )
    if not yes:
        if not sys.stdin.isatty():
            click.echo(f"maildesk: {summary}; give --yes to forget without a terminal", err=True)
            raise SystemExit(2)
        click.confirm(f"{summary}. Erase them for good?", abort=True)
    asked_by = by or _os_user()
    with db.transaction(app.sessions, write=True) as session:
        erased = erasure.forget(session, person.find(session, address), asked_by, app.clock())
    click.echo(
        f"forgot {address} at the request of {asked_by}: {erased.tickets} tickets, "
        f"{erased.messages} messages, {erased.attachments} attachments "
        f"({erased.blobs} files deleted, the others are used elsewhere), "
        f"{erased.unsent} unsent mails dropped"
    )


def _os_user() -> str:
    """Who runs the command, for the event; a container may have no name for its uid."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "an unnamed OS user"


@contacts.command(name="export")
@click.argument("address")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help=f"A new folder for {JSON_FILE} and {MBOX_FILE} (default: ./maildesk-export-ADDRESS).",
)
@click.pass_obj
def contacts_export(state: State, address: str, out: Path | None) -> None:
    """Everything about one person: their contact, tickets, mails and events as JSON, and
    their mails as an mbox (the raw bytes where still kept)."""
    folder = out or Path(f"maildesk-export-{address}")
    if folder.exists() and any(folder.iterdir()):
        click.echo(f"maildesk: {folder}: not empty; give a new folder with --out", err=True)
        raise SystemExit(2)
    app = state.app()
    with db.transaction(app.sessions) as session:
        found = _find(session, address)
        data = contact_export.export(session, found, app.clock())
        folder.mkdir(parents=True, exist_ok=True)
        mails = contact_export.write_mbox(session, found, folder / MBOX_FILE)
    text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    (folder / JSON_FILE).write_text(text, encoding="utf-8")
    click.echo(f"exported {address}: {len(data['tickets'])} tickets, {mails} mails into {folder}/")
