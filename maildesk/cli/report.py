"""`report`: the desk's figures over a period, as text, JSON or one offline HTML page."""

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from maildesk.app import App
from maildesk.cli.main import State, cli
from maildesk.cli.output import print_json
from maildesk.desk.report import figures
from maildesk.errors import MaildeskError
from maildesk.store import db
from maildesk.views import report_html

DEFAULT_DAYS = 30
_DATE = click.DateTime(formats=["%Y-%m-%d"])


@cli.command()
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
        html_path.write_text(report_html.page(data), encoding="utf-8")
    if as_json:
        print_json(data)
    elif html_path is not None:
        click.echo(f"report written to {html_path}")
    else:
        _summary(data)


def _period(app: App, since: date | None, until: date | None) -> tuple[date, date]:
    """[since, until): by default the 30 days that end with today in the desk's zone."""
    end = until or app.clock().astimezone(app.config.desk.zone).date() + timedelta(days=1)
    first = since or end - timedelta(days=DEFAULT_DAYS)
    if first >= end:
        raise click.UsageError(f"--since {first} is not before --until {end}: an empty period")
    return first, end


def _summary(data: dict[str, Any]) -> None:
    period, tickets = data["period"], data["tickets"]
    team = f", team {data['team']}" if data["team"] else ""
    click.echo(
        f"{data['desk']}: {period['since']} to {period['last_day']} ({period['zone']}){team}"
    )
    click.echo(f"tickets: {tickets['total']} ({_pairs(tickets['by_priority'])})")
    for clock, times in data["times"].items():
        click.echo(f"{clock}: {_minutes(times['overall'])}")
        for priority, found in times["by_priority"].items():
            if found["count"]:
                working = " working time" if found["working_time"] else ""
                click.echo(f"  {priority} {_minutes(found)}, target {found['target']}{working}")
    for clock, by_priority in data["sla"].items():
        verdicts = ", ".join(
            f"{p} {v['met']} met {v['breached']} breached"
            for p, v in by_priority.items()
            if v["met"] or v["breached"]
        )
        click.echo(f"sla {clock}: {verdicts or 'nothing met or breached'}")
    click.echo(f"escalations: {_pairs(data['escalations']) or 'none'}")
    overall = data["csat"]["overall"]
    click.echo(
        f"csat: average {_value(overall['average_rating'])}, "
        f"{overall['answered']} answered of {overall['asked']} asked "
        f"({_percent(overall['response_rate'])})"
    )
    reopen = data["reopen"]
    click.echo(
        f"reopened: {reopen['reopened']} of {reopen['resolved']} resolved "
        f"({_percent(reopen['rate'])})"
    )
    top = {c["category"]: c["tickets"] for c in data["top_categories"]}
    click.echo(f"top categories: {_pairs(top) or 'none'}")
    click.echo(f"top tags: {_pairs({t['tag']: t['tickets'] for t in data['top_tags']}) or 'none'}")
    served, used = data["self_service"], data["articles_used"]
    click.echo(
        f"self-service: {served['tickets']} resolved of {served['suggested']} with suggestions "
        f"({_percent(served['rate'])}); articles used: {used['answers']} answers, "
        f"{used['accepted']} accepted"
    )
    gaps = {g["category"]: g["tickets"] for g in data["kb_gaps"]}
    click.echo(f"categories without an article: {_pairs(gaps) or 'none'}")


def _pairs(counts: dict[str, int]) -> str:
    return ", ".join(f"{key} {n}" for key, n in counts.items() if n)


def _minutes(found: dict[str, Any]) -> str:
    if not found["count"]:
        return "none yet"
    return (
        f"{found['count']} tickets, median {found['median_minutes']} min, "
        f"p90 {found['p90_minutes']} min"
    )


def _value(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def _percent(share: float | None) -> str:
    return "-" if share is None else f"{share:.0%}"
