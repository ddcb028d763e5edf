"""`sla upcoming`: the dry run of the escalation ladder."""

import click

from maildesk.cli.main import State
from maildesk.cli.output import print_json, print_table
from maildesk.desk.sla.upcoming import upcoming
from maildesk.store import db


@click.group()
def sla() -> None:
    """Service levels: what will warn, breach or escalate."""


@sla.command(name="upcoming")
@click.option("--hours", type=click.FloatRange(min=0), default=24.0, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def sla_upcoming(state: State, hours: float, as_json: bool) -> None:
    """What warns, breaches or escalates in the next HOURS, when and to whom; sends nothing."""
    app = state.app()
    with db.transaction(app.sessions) as session:
        found = upcoming(session, app.desk(), app.clock(), hours)
    if as_json:
        print_json([entry.as_json() for entry in found])
        return
    if not found:
        click.echo(f"nothing warns, breaches or escalates in the next {hours:g} h")
        return
    print_table(
        ("ticket", "priority", "clock", "level", "at", "to"),
        (
            (
                f"#{entry.number}",
                entry.priority,
                entry.clock,
                entry.level,
                "now (overdue)" if entry.overdue else entry.at.isoformat(timespec="minutes"),
                ", ".join(entry.recipients) or "nobody",
            )
            for entry in found
        ),
    )
