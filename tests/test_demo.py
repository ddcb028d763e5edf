"""`maildesk demo`: the whole story through the real pipeline and daemon jobs, on the
embedded servers and a moved clock; it exits 0 only when every step happened."""

import subprocess
import sys
from pathlib import Path

from maildesk import config as config_module
from maildesk.app import App
from maildesk.demo.run import tell
from maildesk.demo.scene import Missed
from maildesk.demo.story import STEPS, Step
from maildesk.store import db
from maildesk.views import records


def test_the_demo_tells_the_whole_story_and_keeps_its_desk(tmp_path: Path):
    kept = tmp_path / "kept"
    result = subprocess.run(
        [sys.executable, "-m", "maildesk", "demo", "--keep", str(kept)],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tmp_path,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert f"every step happened ({len(STEPS)} of {len(STEPS)})" in out
    assert "→ zhang.wei@example.cn: [Ticket#2] 报表导出失败" in out, "the Chinese ack"
    assert "→ mei@demo.test: [Ticket#1] SLA L1: overdue (P0, first response)" in out
    assert "→ zhang.wei@example.cn: [Ticket#2] 满意度回访：报表导出失败" in out, "the survey"
    assert "csat: average 5, 1 answered of 2 asked (50%)" in out
    page = tmp_path / "maildesk-demo-report.html"
    assert f"page written to {page}" in out
    assert page.read_text(encoding="utf-8").count("<svg") == 6

    kept_desk = App.build(config_module.load(kept / "maildesk.toml"))  # as `tickets list`
    try:
        with db.transaction(kept_desk.sessions) as session:
            tickets = records.ticket_list(session)
    finally:
        kept_desk.close()
    assert [(t["number"], t["priority"], t["status"]) for t in tickets] == [
        (1, "P0", "closed"),
        (2, "P1", "closed"),
    ]


def test_the_story_stops_at_a_step_that_did_not_happen(capsys):
    told: list[str] = []

    def missed(scene) -> list[str]:
        raise Missed("no survey mail to zhang.wei@example.cn")

    def after(scene) -> list[str]:
        told.append("after")
        return []

    steps = (Step("the survey goes out", missed), Step("the rating", after))
    done = tell(None, steps)  # type: ignore[arg-type]  # no step here looks at the scene

    assert done is False and told == []
    err = capsys.readouterr().err
    assert "MISSED: no survey mail to zhang.wei@example.cn" in err
    assert "the demo stopped at step 1: the survey goes out" in err
