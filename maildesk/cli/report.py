"""`report`: the desk's figures over a period, as text, JSON or one offline HTML page."""

from datetime import date, datetime, timedelta
from pathlib import Path

import click

from maildesk.app import App
from maildesk.cli.main import State
from maildesk.cli.output import print_json
from maildesk.desk.report import figures
from maildesk.errors import MaildeskError
from maildesk.store import db
from maildesk.views import report_text

DEFAULT_DAYS = 30
_DATE = click.DateTime(formats=["%Y-%m-%d"])


@click.command()
@click.option("--since", type=_DATE, help="First day counted (default: 30 days before --until).")
@click.option("--until", type=_DATE, help="First day NOT counted (default: tomorrow).")
@click.option("--team", help="Only the tickets of this team.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option(
    "--html",
    "html_path",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Also write the report with charts to this HTML file.",
)
@click.pass_obj
def report(
    state: State,
    since: datetime | None,
    until: datetime | None,
    team: str | None,
    as_json: bool,
    html_path: Path | None,
) -> None:
    """Tickets, response times, SLA, escalations, satisfaction, tags of tickets opened
    in a period (local dates of the desk's time zone; automatic tickets left out)."""
    app = state.app()
    first, end = _period(app, since and since.date(), until and until.date())
    if team is not None and app.config.team(team) is None:
        names = ", ".join(t.name for t in app.config.teams) or "none"
        raise MaildeskError(f"--team: no team called {team!r} (configured: {names})")
    with db.transaction(app.sessions) as session:
        data = figures(session, app.desk(), first, end, team)
    if html_path is not None:
        from maildesk.views import report_html  # pygal: only a page needs it

        html_path.write_text(report_html.page(data), encoding="utf-8")
    if as_json:
        print_json(data)
    elif html_path is not None:
        click.echo(f"report written to {html_path}")
    else:
        for line in report_text.lines(data):
            click.echo(line)


def _period(app: App, since: date | None, until: date | None) -> tuple[date, date]:
    """[since, until): by default the 30 days that end with today in the desk's zone."""
    end = until or app.clock().astimezone(app.config.desk.zone).date() + timedelta(days=1)
    first = since or end - timedelta(days=DEFAULT_DAYS)
    if first >= end:
        raise click.UsageError(f"--since {first} is not before --until {end}: an empty period")
    return first, end
