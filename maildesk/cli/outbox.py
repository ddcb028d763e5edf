"""`outbox list [--failed]`, `outbox retry ID` and `status`: the daemon's state for an operator."""

import click

from maildesk.cli.main import State
from maildesk.cli.output import print_json, print_table
from maildesk.desk import failed_mail
from maildesk.store import db
from maildesk.views import outbox as outbox_view
from maildesk.views.status import status as desk_status


@click.group()
def outbox() -> None:
    """Outgoing mail: what waits, what was sent, what failed and why."""


@outbox.command(name="list")
@click.option("--failed", "failed_only", is_flag=True, help="Only the failed mail, with why.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
@click.pass_obj
def outbox_list(state: State, failed_only: bool, as_json: bool) -> None:
    """The outbox, newest first."""
    app = state.app()
    with db.transaction(app.sessions) as session:
        found = outbox_view.rows(session, failed_only)
    if as_json:
        print_json(found)
        return
    if not found:
        click.echo("no failed mail" if failed_only else "the outbox is empty")
        return
    print_table(
        ("id", "kind", "ticket", "to", "status", "tries", "next / sent", "last error"),
        (
            (
                row["id"],
                row["kind"],
                f"#{row['ticket']}" if row["ticket"] is not None else "-",
                ", ".join(row["recipients"]),
                row["status"],
                row["attempts"],
                row["sent_at"] or row["next_attempt_at"] or "-",
                row["last_error"] or "",
            )
            for row in found
        ),
    )


@outbox.command(name="retry")
@click.argument("row_id", metavar="ID", type=int)
@click.pass_obj
def outbox_retry(state: State, row_id: int) -> None:
    """Send a failed mail again at the next drain (after the fix); its attempts are kept."""
    app = state.app()
    with db.transaction(app.sessions, write=True) as session:
        row = failed_mail.retry(session, row_id, app.clock())
        attempts = row.attempts
    click.echo(f"outbox mail {row_id} is due now (attempts so far: {attempts})")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.pass_obj
def status(state: State, as_json: bool) -> None:
    """The outbox, tickets by status, SLA breaches, the quarantine and each mailbox's last
    successful poll, now."""
    app = state.app()
    with db.transaction(app.sessions) as session:
        data = desk_status(session, app.clock(), app.config.mailboxes)
    if as_json:
        print_json(data)
        return
    box, age = data["outbox"], data["outbox"]["oldest_pending_seconds"]
    click.echo(
        f"outbox: {box['pending']} pending, {box['failed']} failed, {box['sent']} sent"
        + (f"; the oldest pending waits {_duration(age)}" if age is not None else "")
    )
    click.echo("tickets: " + ", ".join(f"{n} {name}" for name, n in data["tickets"].items()))
    breached = data["sla_breached"]
    click.echo(
        f"sla: {breached['open']} clocks breached and still open ({breached['total']} ever)"
    )
    click.echo(f"quarantine: {data['quarantined']} mails waiting for a replay")
    for mailbox in data["mailboxes"]:
        ago = mailbox["last_poll_seconds"]
        when = "never" if ago is None else f"{_duration(ago)} ago"
        late = " (late)" if mailbox["late"] else ""
        click.echo(f"mailbox {mailbox['name']}: last successful poll {when}{late}")


def _duration(seconds: int) -> str:
    """`42 s`, `5 min`, `3.5 h`, `2.0 d`: a wait as a person reads it."""
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"
