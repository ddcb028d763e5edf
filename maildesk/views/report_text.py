"""The report's figures as lines of text: `maildesk report` prints them, so does the demo."""

from typing import Any


def lines(data: dict[str, Any]) -> list[str]:
    """Period, volume, times against targets, SLA, escalations, CSAT, reopenings, tops,
    and what the knowledge base did (self-service, articles used, the gaps)."""
    period, tickets = data["period"], data["tickets"]
    team = f", team {data['team']}" if data["team"] else ""
    found = [
        f"{data['desk']}: {period['since']} to {period['last_day']} ({period['zone']}){team}",
        f"tickets: {tickets['total']} ({_pairs(tickets['by_priority'])})",
    ]
    for clock, times in data["times"].items():
        found.append(f"{clock}: {_minutes(times['overall'])}")
        for priority, seen in times["by_priority"].items():
            if seen["count"]:
                working = " working time" if seen["working_time"] else ""
                found.append(f"  {priority} {_minutes(seen)}, target {seen['target']}{working}")
    for clock, by_priority in data["sla"].items():
        verdicts = ", ".join(
            f"{p} {v['met']} met {v['breached']} breached"
            for p, v in by_priority.items()
            if v["met"] or v["breached"]
        )
        found.append(f"sla {clock}: {verdicts or 'nothing met or breached'}")
    found.append(f"escalations: {_pairs(data['escalations']) or 'none'}")
    overall, reopen = data["csat"]["overall"], data["reopen"]
    top = {c["category"]: c["tickets"] for c in data["top_categories"]}
    tags = {t["tag"]: t["tickets"] for t in data["top_tags"]}
    served, used = data["self_service"], data["articles_used"]
    gaps = {g["category"]: g["tickets"] for g in data["kb_gaps"]}
    return found + [
        f"csat: average {_value(overall['average_rating'])}, "
        f"{overall['answered']} answered of {overall['asked']} asked "
        f"({_percent(overall['response_rate'])})",
        f"reopened: {reopen['reopened']} of {reopen['resolved']} resolved "
        f"({_percent(reopen['rate'])})",
        f"top categories: {_pairs(top) or 'none'}",
        f"top tags: {_pairs(tags) or 'none'}",
        f"self-service: {served['tickets']} resolved of {served['suggested']} with suggestions "
        f"({_percent(served['rate'])}); articles used: {used['answers']} answers, "
        f"{used['accepted']} accepted",
        f"categories without an article: {_pairs(gaps) or 'none'}",
    ]


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
