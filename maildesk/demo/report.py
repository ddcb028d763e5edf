"""The story's last step: the report over the days the story took, printed, and its page
written into the current directory, where it outlives the demo's folder."""

from datetime import timedelta
from pathlib import Path

from maildesk.demo.scene import Missed, Scene
from maildesk.desk.report import figures
from maildesk.store import db
from maildesk.views import report_html, report_text

PAGE = "maildesk-demo-report.html"


def report_made(scene: Scene) -> list[str]:
    zone = scene.app.config.desk.zone
    end = scene.clock().astimezone(zone).date() + timedelta(days=1)
    with db.transaction(scene.app.sessions) as session:
        data = figures(session, scene.app.desk(), end - timedelta(days=30), end, None)
    page = Path.cwd() / PAGE
    page.write_text(report_html.page(data), encoding="utf-8")
    csat = data["csat"]["overall"]
    if data["tickets"]["total"] != 2 or (csat["answered"], csat["average_rating"]) != (1, 5.0):
        raise Missed(f"the report does not count the story: {data['tickets']}, {csat}")
    if not data["escalations"]["L1"]:
        raise Missed("the report counts no escalation")
    return [*report_text.lines(data), f"page written to {page}"]
