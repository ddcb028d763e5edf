"""`tickets list | show | update`: look at tickets, and change one as an agent would."""

import click

from maildesk.cli.main import MAILBOX_OPTION, State, check_mailbox
from maildesk.cli.output import print_json, print_table
from maildesk.desk import actions, follow_up
from maildesk.desk.commands import CommandError
from maildesk.errors import MaildeskError
from maildesk.store import db
from maildesk.store.tables import Status
from maildesk.views import records


@click.group()
def tickets() -> None:
    """Look at tickets."""


@tickets.command(name="list")
@click.option("--status", type=click.Choice([s.value for s in Status]))
@MAILBOX_OPTION
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def tickets_list(state: State, status: str | None, mailbox: str | None, as_json: bool) -> None:
    """List tickets, oldest first."""
    app = state.app()
    check_mailbox(app, mailbox)
    with db.transaction(app.sessions) as session:
        rows = records.ticket_list(session, status, mailbox)
    if as_json:
        print_json(rows)
        return
    columns = ("number", "status", "priority", "customer", "subject")
    print_table(columns, ([row[key] for key in columns] for row in rows))


@tickets.command(name="update")
@click.argument("number", type=int)
@click.option("--status", help="open | pending | resolved | closed (or 已解决 ...)")
@click.option("--priority", help="P0 | P1 | P2 | P3")
@click.option("--assign", help="An agent's email or name.")
@click.option("--note", help="An internal note on the ticket.")
@click.pass_obj
def tickets_update(
    state: State,
    number: int,
    status: str | None,
    priority: str | None,
    assign: str | None,
    note: str | None,
) -> None:
    """Change a ticket as an agent's commands would (the same code; actor "cli")."""
    given = (("status", status), ("priority", priority), ("assign", assign))
    lines = [f"#{name} {value}" for name, value in given if value]
    if not lines and not note:
        raise click.UsageError("give at least one of --status, --priority, --assign, --note")
    text = "\n".join(lines + (["#note", "", note] if note else []))
    app = state.app()
    with db.transaction(app.sessions, write=True) as session:
        ticket = follow_up.by_number(session, number)
        if ticket is None:
            raise MaildeskError(f"ticket {number} not found")
        try:
            actions.execute(
                session, app.desk(), ticket, text, "cli", "the command line", app.clock()
            )
        except CommandError as error:
            raise MaildeskError(f"{error.line.lstrip('#')}: {error.reason}") from error
        summary = f"{ticket.status}, {ticket.priority}, {ticket.assignee or 'unassigned'}"
    click.echo(f"ticket {number}: {summary} (mail to the customer goes out with the outbox)")


@tickets.command(name="show")
@click.argument("number", type=int)
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def tickets_show(state: State, number: int, as_json: bool) -> None:
    """Show one ticket with its messages."""
    with db.transaction(state.app().sessions) as session:
        detail = records.ticket_detail(session, number)
    if detail is None:
        raise MaildeskError(f"ticket {number} not found")
    if as_json:
        print_json(detail)
        return
    click.echo(
        f"#{detail['number']} {detail['subject']}\n"
        f"status {detail['status']}, priority {detail['priority']}, "
        f"customer {detail['customer'] or '(none)'}, opened {detail['created_at']}"
    )
    if detail["bouncing"]:
        click.echo(f"mail bounces: {', '.join(detail['bouncing'])}")
    for event in detail["events"]:
        click.echo(f"  {event['created_at']} {event['kind']}: {event['detail']}")
    for m in detail["messages"]:
        arrow = "<-" if m["direction"] == "in" else "->"
        click.echo(f"\n{arrow} [{m['class']}] {m['from']}: {m['subject']}\n{m['text']}")
