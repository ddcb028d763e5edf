"""`maildesk report --html`: the figures as one page that opens offline, anywhere.

Charts are pygal's SVG inlined, with its external script turned off (`js=[]`), so the
file fetches nothing; under each chart its figures as a table, for reading and copying.
"""

from html import escape
from typing import Any

import pygal

from maildesk.config import PRIORITIES

_CSS = """
body { font-family: system-ui, "Noto Sans CJK SC", "Microsoft YaHei", sans-serif;
       margin: 2rem auto; max-width: 60rem; color: #222; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2.5rem; }
svg { width: 100%; height: auto; }
table { border-collapse: collapse; margin: .5rem 0; font-size: .9rem; }
th, td { border: 1px solid #ccc; padding: .2rem .6rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
"""
_CLOCKS = {"first_response": "First response", "resolution": "Resolution"}


def page(figures: dict[str, Any]) -> str:
    """The whole HTML document of `desk.report.figures`."""
    period = figures["period"]
    title = f"{figures['desk']}: report {period['since']} to {period['last_day']}" + (
        f", team {figures['team']}" if figures["team"] else ""
    )
    sections = [
        _volume(figures["tickets"]),
        *(_times(clock, figures["times"][clock]) for clock in _CLOCKS),
        _sla(figures["sla"]),
        _escalations(figures["escalations"]),
        _csat(figures["csat"]),
        _tops(figures),
        _knowledge(figures),
    ]
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{escape(title)}</h1><p>Local dates in {escape(period['zone'])}; "
        "times are wall-clock minutes from opening, targets on their SLA clock.</p>"
        + "".join(sections)
        + "</body></html>\n"
    )


def _chart(kind: type, title: str, labels: list[str], series: dict[str, list]) -> str:
    chart = kind(pygal.Config(js=[], disable_xml_declaration=True), title=title, height=400)
    chart.x_labels = labels
    for name, values in series.items():
        chart.add(name, values)
    return chart.render(is_unicode=True)


def _table(head: list[str], rows: list[list[Any]]) -> str:
    def cell(tag: str, value: Any) -> str:
        return f"<{tag}>{escape('–' if value is None else str(value))}</{tag}>"

    lines = ["<tr>" + "".join(cell("th", h) for h in head) + "</tr>"]
    lines += ["<tr>" + "".join(cell("td", v) for v in row) + "</tr>" for row in rows]
    return "<table>" + "".join(lines) + "</table>"


def _section(title: str, *parts: str) -> str:
    return f"<section><h2>{escape(title)}</h2>{''.join(parts)}</section>"


def _volume(tickets: dict[str, Any]) -> str:
    days = tickets["per_day"]
    series = {p: [day["by_priority"][p] for day in days] for p in PRIORITIES}
    chart = _chart(pygal.StackedBar, "Tickets per day", [d["date"] for d in days], series)
    rows = [[d["date"], *d["by_priority"].values(), d["total"]] for d in days if d["total"]]
    rows.append(["all", *tickets["by_priority"].values(), tickets["total"]])
    return _section("Tickets", chart, _table(["day", *PRIORITIES, "total"], rows))


def _times(clock: str, times: dict[str, Any]) -> str:
    found = times["by_priority"]
    series = {
        "median": [found[p]["median_minutes"] for p in PRIORITIES],
        "p90": [found[p]["p90_minutes"] for p in PRIORITIES],
        "target": [found[p]["target_minutes"] for p in PRIORITIES],
    }
    chart = _chart(pygal.Bar, f"{_CLOCKS[clock]} (minutes)", list(PRIORITIES), series)
    overall = times["overall"]
    rows = [
        [
            p,
            found[p]["count"],
            found[p]["median_minutes"],
            found[p]["p90_minutes"],
            found[p]["target"] + (" (working time)" if found[p]["working_time"] else ""),
        ]
        for p in PRIORITIES
    ]
    rows.append(["all", overall["count"], overall["median_minutes"], overall["p90_minutes"], ""])
    head = ["priority", "tickets", "median min", "p90 min", "target"]
    return _section(f"{_CLOCKS[clock]} time", chart, _table(head, rows))


def _sla(sla: dict[str, Any]) -> str:
    series = {
        f"{_CLOCKS[clock]} {verdict}": [sla[clock][p][verdict] for p in PRIORITIES]
        for clock in _CLOCKS
        for verdict in ("met", "breached")
    }
    chart = _chart(pygal.Bar, "SLA met and breached", list(PRIORITIES), series)
    rows = [[name, *values] for name, values in series.items()]
    return _section("SLA", chart, _table(["clock", *PRIORITIES], rows))


def _escalations(escalations: dict[str, int]) -> str:
    labels = list(escalations)
    chart = _chart(
        pygal.Bar, "Escalations by level", labels, {"fired": list(escalations.values())}
    )
    return _section(
        "Escalations", chart, _table(["level", "fired"], list(map(list, escalations.items())))
    )


def _csat(csat: dict[str, Any]) -> str:
    agents = csat["by_agent"]
    labels = [a["agent"] or "nobody" for a in agents]
    chart = _chart(
        pygal.Bar,
        "Average rating per agent (1-5)",
        labels,
        {"rating": [a["average_rating"] for a in agents]},
    )
    head = ["", "asked", "answered", "average rating", "response rate"]

    def row(name: str, found: dict[str, Any]) -> list[Any]:
        rate = found["response_rate"]
        return [
            name,
            found["asked"],
            found["answered"],
            found["average_rating"],
            None if rate is None else f"{rate:.0%}",
        ]

    rows = [row(f"agent {label}", a) for label, a in zip(labels, agents, strict=True)]
    rows += [row(f"team {t['team'] or 'none'}", t) for t in csat["by_team"]]
    rows.append(row("all", csat["overall"]))
    return _section("Satisfaction", chart, _table(head, rows))


def _tops(figures: dict[str, Any]) -> str:
    reopen = figures["reopen"]
    rate = reopen["rate"]
    return _section(
        "Categories, tags, reopenings",
        _table(
            ["category", "tickets"],
            [[c["category"], c["tickets"]] for c in figures["top_categories"]],
        ),
        _table(["tag", "tickets"], [[t["tag"], t["tickets"]] for t in figures["top_tags"]]),
        _table(
            ["resolved", "reopened", "reopen rate"],
            [[reopen["resolved"], reopen["reopened"], None if rate is None else f"{rate:.0%}"]],
        ),
    )


def _knowledge(figures: dict[str, Any]) -> str:
    served, used = figures["self_service"], figures["articles_used"]
    rate = served["rate"]
    return _section(
        "Knowledge base",
        _table(
            ["resolved by self-service", "with suggestions", "rate", "answers", "accepted"],
            [
                [served["tickets"], served["suggested"], None if rate is None else f"{rate:.0%}"]
                + [used["answers"], used["accepted"]]
            ],
        ),
        _table(
            ["article", "title", "answers", "accepted"],
            [[a["slug"], a["title"], a["answers"], a["accepted"]] for a in used["articles"]],
        ),
        _table(
            ["category without an article", "tickets"],
            [[g["category"], g["tickets"]] for g in figures["kb_gaps"]],
        ),
    )
