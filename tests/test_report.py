"""`maildesk report`: figures from a known history, the command's JSON and HTML, the page in
a headless browser.

The seeded history (Asia/Shanghai, UTC+8; T0 is Monday 2026-11-23 10:00 local):
#1 P1 Mon 10:00, answered in 20 min, resolved in 3 h: both clocks met.
#2 P1 Mon 11:00, answered in 40 min, resolved in 5 h and closed: both clocks breached.
#3 P2 Tue 09:00 (billing), answered in 60 min, resolved in 2 h, reopened an hour later.
#4 P3 Tue 15:00, not answered: first response breached, still running.
#5 automatic, #6 opened Sunday: they count nowhere (their rows would change every figure).
"""

import json
import shutil
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest

from maildesk.app import App
from maildesk.desk.report import figures
from maildesk.store import db
from maildesk.store.deadline_tables import SlaClock, SlaEvent, Survey
from maildesk.store.tables import Event, Ticket, TicketTag
from tests.conftest import T0, maildesk_in_process
from tests.desk.sla.desk import (
    agent_answers,
    agent_does,
    customer_writes,
    run_sweep,
    sla_desk,
    utc,
)

MON, TUE = date(2026, 11, 23), date(2026, 11, 24)
PERIOD = ["--since", "2026-11-23", "--until", "2026-11-25"]
LIN, WANG = "lin@desk.example", "wang@desk.example"
LOGIN = "登录"  # a Chinese category: JSON and the page keep it as it is


def at(hours: float, minutes: float = 0):
    """T0 plus some time."""
    return T0 + timedelta(hours=hours, minutes=minutes)


def seed(app: App) -> None:
    """The history of the module docstring, as rows with exact times."""
    with db.transaction(app.sessions, write=True) as session:
        tickets = [
            _ticket(1, "P1", at(0), "resolved", "support", LOGIN, 20, 180),
            _ticket(2, "P1", at(1), "closed", "support", LOGIN, 40, None),
            _ticket(3, "P2", at(23), "open", "billing", "invoice", 60, None),
            _ticket(4, "P3", at(29), "open", "support", None, None, None),
            _ticket(5, "P0", at(2), "open", "support", "invoice", 5, None, automatic=True),
            _ticket(6, "P0", at(-20), "resolved", "support", "invoice", 5, 30),
        ]
        session.add_all(tickets)
        session.flush()
        one, two, three, four, auto, sunday = (t.id for t in tickets)
        session.add_all(
            [TicketTag(ticket_id=i, tag=w) for i, w in [(one, "vpn"), (one, "urgent")]]
            + [TicketTag(ticket_id=i, tag="vpn") for i in (two, three, auto, sunday)]
            + [TicketTag(ticket_id=four, tag="printer")]
        )
        session.add_all(
            [
                _event(two, "status", "open -> resolved", at(6)),
                _event(two, "status", "resolved -> closed", at(30)),
                _event(three, "status", "open -> resolved", at(25)),
                _event(three, "reopened", "resolved -> open", at(26)),
                _event(auto, "reopened", "resolved -> open", at(3)),
            ]
        )
        session.add_all(
            [
                _clock(one, "first_response", "met"),
                _clock(one, "resolution", "met"),
                _clock(two, "first_response", "met", breached=True),
                _clock(two, "resolution", "met", breached=True),
                _clock(three, "first_response", "met"),
                _clock(three, "resolution", "running"),
                _clock(four, "first_response", "running", breached=True),
                _clock(four, "resolution", "running"),
                _clock(auto, "first_response", "met", breached=True),
                _clock(sunday, "first_response", "met", breached=True),
            ]
        )
        session.add_all(
            [
                _level(two, "first_response", "L1"),
                _level(three, "first_response", "warn"),
                _level(three, "resolution", "L1"),
                _level(four, "first_response", "warn"),
                _level(four, "first_response", "L1"),
                _level(four, "first_response", "L2"),
                _level(auto, "first_response", "L3"),
                _level(sunday, "first_response", "L3"),
            ]
        )
        session.add_all(
            [
                _survey(one, LIN, "support", "answered", 5),
                _survey(two, WANG, "support", "answered", 3),
                _survey(two, WANG, "support", "expired"),
                _survey(three, LIN, "billing", "sent"),
                _survey(three, LIN, "billing", "skipped"),
                _survey(auto, LIN, "support", "answered", 1),
                _survey(sunday, WANG, "support", "answered", 1),
            ]
        )


def _ticket(number, priority, created, status, team, category, answered, resolved, **more):
    return Ticket(
        number=number,
        subject=f"case {number}",
        status=status,
        priority=priority,
        team=team,
        category=category,
        customer="ann@customer.example",
        locale="en",
        created_at=created,
        updated_at=created,
        first_response_at=None if answered is None else created + timedelta(minutes=answered),
        resolved_at=None if resolved is None else created + timedelta(minutes=resolved),
        **more,
    )


def _event(ticket_id, kind, detail, moment):
    return Event(ticket_id=ticket_id, kind=kind, detail=detail, actor="t", created_at=moment)


def _clock(ticket_id, clock, state, breached=False):
    return SlaClock(
        ticket_id=ticket_id,
        clock=clock,
        state=state,
        run=1,
        target_seconds=3600.0,
        calendar="24x7",
        used_seconds=0.0,
        ladder_share=0,
        breached_at=T0 if breached else None,
    )


def _level(ticket_id, clock, level):
    return SlaEvent(ticket_id=ticket_id, clock=clock, run=1, kind="level", level=level, at=T0)


def _survey(ticket_id, agent, team, state, rating=None):
    return Survey(
        ticket_id=ticket_id,
        customer="ann@customer.example",
        agent=agent,
        team=team,
        state=state,
        resolved_at=T0,
        rating=rating,
    )


@pytest.fixture
def desk(make_app) -> App:
    app = sla_desk(make_app)
    seed(app)
    return app


def report_of(app: App, team: str | None = None) -> dict:
    with db.transaction(app.sessions) as session:
        return figures(session, app.desk(), MON, TUE + timedelta(days=1), team)


def test_volume_per_day_and_priority_leaves_out_automatic_and_other_days(desk):
    tickets = report_of(desk)["tickets"]

    assert tickets["total"] == 4
    assert tickets["by_priority"] == {"P0": 0, "P1": 2, "P2": 1, "P3": 1}
    assert tickets["per_day"] == [
        {"date": "2026-11-23", "total": 2, "by_priority": {"P0": 0, "P1": 2, "P2": 0, "P3": 0}},
        {"date": "2026-11-24", "total": 2, "by_priority": {"P0": 0, "P1": 0, "P2": 1, "P3": 1}},
    ]


def test_medians_and_p90_of_response_and_resolution_next_to_the_targets(desk):
    times = report_of(desk)["times"]
    first, resolution = times["first_response"], times["resolution"]

    # 20, 40, 60 min; p90 interpolates between the 2nd and 3rd (position 1.8)
    assert first["overall"] == {"count": 3, "median_minutes": 40.0, "p90_minutes": 56.0}
    assert first["by_priority"]["P1"] == {
        "count": 2,
        "median_minutes": 30.0,
        "p90_minutes": 38.0,
        "target": "30m",
        "target_minutes": 30.0,
        "working_time": False,
    }
    assert first["by_priority"]["P2"] == {
        "count": 1,
        "median_minutes": 60.0,
        "p90_minutes": 60.0,
        "target": "2h",
        "target_minutes": 120.0,
        "working_time": True,
    }
    assert first["by_priority"]["P3"]["count"] == 0
    assert first["by_priority"]["P3"]["median_minutes"] is None
    # #1 in 180 min; #2 closed, so its last move to resolved: 300 min; #3 reopened: none
    assert resolution["overall"] == {"count": 2, "median_minutes": 240.0, "p90_minutes": 288.0}
    p3 = resolution["by_priority"]["P3"]
    assert (p3["target"], p3["target_minutes"], p3["working_time"]) == ("3wd", 1620.0, True)


def test_sla_met_and_breached_per_priority_and_clock(desk):
    sla = report_of(desk)["sla"]

    assert sla["first_response"] == {
        "P0": {"met": 0, "breached": 0},
        "P1": {"met": 1, "breached": 1},
        "P2": {"met": 1, "breached": 0},
        "P3": {"met": 0, "breached": 1},
    }
    assert sla["resolution"]["P1"] == {"met": 1, "breached": 1}
    assert sla["resolution"]["P2"] == sla["resolution"]["P3"] == {"met": 0, "breached": 0}


def test_escalations_csat_tops_and_reopen_rate(desk):
    found = report_of(desk)

    assert found["escalations"] == {"warn": 2, "L1": 3, "L2": 1, "L3": 0, "unassigned": 0}
    csat = found["csat"]
    assert csat["overall"] == {
        "asked": 4,
        "answered": 2,
        "average_rating": 4.0,
        "response_rate": 0.5,
    }
    assert csat["by_agent"] == [
        {"agent": LIN, "asked": 2, "answered": 1, "average_rating": 5.0, "response_rate": 0.5},
        {"agent": WANG, "asked": 2, "answered": 1, "average_rating": 3.0, "response_rate": 0.5},
    ]
    assert csat["by_team"] == [
        {
            "team": "billing",
            "asked": 1,
            "answered": 0,
            "average_rating": None,
            "response_rate": 0.0,
        },
        {
            "team": "support",
            "asked": 3,
            "answered": 2,
            "average_rating": 4.0,
            "response_rate": 0.6667,
        },
    ]
    assert found["top_categories"] == [
        {"category": LOGIN, "tickets": 2},
        {"category": "invoice", "tickets": 1},
    ]
    assert found["top_tags"] == [
        {"tag": "vpn", "tickets": 3},
        {"tag": "printer", "tickets": 1},
        {"tag": "urgent", "tickets": 1},
    ]
    assert found["reopen"] == {"resolved": 3, "reopened": 1, "rate": 0.3333}


def test_a_team_sees_its_own_tickets_only(desk):
    found = report_of(desk, team="support")

    assert (found["team"], found["tickets"]["total"]) == ("support", 3)
    assert found["top_categories"] == [{"category": LOGIN, "tickets": 2}]
    assert found["csat"]["overall"]["asked"] == 3
    assert found["reopen"] == {"resolved": 2, "reopened": 0, "rate": 0.0}


def test_a_history_made_through_intake_and_commands_is_counted(make_app, clock):
    """The event details the desk writes are the ones the report reads."""
    app = sla_desk(make_app)
    number = customer_writes(app)  # P2, assigned to Lin, first response due 12:00
    clock.now = utc(23, 3, 30)
    run_sweep(app)  # the 75 % warning
    clock.now = utc(23, 3, 40)
    agent_answers(app, number, "Please restart the spooler.")
    clock.now = utc(23, 5)
    agent_does(app, number, "#tag printer\n#resolve restarted the spooler")
    clock.now = utc(24, 2)
    customer_writes(app, subject=f"Re: [Ticket#{number}] printer", at=clock.now)

    found = report_of(app)

    assert found["tickets"]["by_priority"]["P2"] == 1
    assert found["times"]["first_response"]["overall"]["median_minutes"] == 100.0
    assert found["times"]["resolution"]["overall"]["count"] == 0, "reopened: not resolved now"
    assert found["sla"]["first_response"]["P2"] == {"met": 1, "breached": 0}
    assert found["escalations"]["warn"] == 1
    assert found["top_tags"] == [{"tag": "printer", "tickets": 1}]
    assert found["reopen"] == {"resolved": 1, "reopened": 1, "rate": 1.0}


def config_of(tmp_path: Path) -> Path:
    return tmp_path / "maildesk.toml"  # where make_app wrote the desk's config


def test_the_command_prints_the_json_and_text_and_refuses_an_unknown_team(desk, tmp_path):
    config = config_of(tmp_path)
    result = maildesk_in_process("report", *PERIOD, "--json", config=config)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {
        "desk",
        "team",
        "period",
        "tickets",
        "times",
        "sla",
        "escalations",
        "csat",
        "top_categories",
        "top_tags",
        "reopen",
        "self_service",
        "articles_used",
        "kb_gaps",
    }
    assert data["period"] == {
        "since": "2026-11-23",
        "until": "2026-11-25",
        "last_day": "2026-11-24",
        "zone": "Asia/Shanghai",
    }
    assert data["top_categories"][0]["category"] == LOGIN
    assert data["kb_gaps"][0]["category"] == LOGIN, "no article for it: the gap to write"
    assert data["self_service"] == {"tickets": 0, "suggested": 0, "rate": None}

    text = maildesk_in_process("report", *PERIOD, config=config)
    assert text.returncode == 0, text.stderr
    assert "tickets: 4 (P1 2, P2 1, P3 1)" in text.stdout
    assert "reopened: 1 of 3 resolved (33%)" in text.stdout
    assert f"categories without an article: {LOGIN} " in text.stdout

    unknown = maildesk_in_process("report", "--team", "nobody", config=config)
    assert unknown.returncode == 1
    assert "no team called 'nobody'" in unknown.stderr


def test_the_command_writes_one_self_contained_html_page(desk, tmp_path):
    page = tmp_path / "report.html"
    result = maildesk_in_process(
        "report", *PERIOD, "--html", str(page), config=config_of(tmp_path)
    )

    assert result.returncode == 0, result.stderr
    html = page.read_text(encoding="utf-8")
    assert html.count("<svg") == 6, "volume, 2 x times, SLA, escalations, CSAT per agent"
    assert '<meta charset="utf-8">' in html and LOGIN in html
    assert "Test Support: report 2026-11-23 to 2026-11-24" in html
    assert "src=" not in html and "<link" not in html, "nothing to fetch: it opens offline"


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.one_database("the page is the same whichever database the figures came from")
@pytest.mark.parametrize("database_kind", ["sqlite"])
def test_the_page_renders_its_charts_in_a_headless_browser(desk, tmp_path):
    browser = _chromium()
    if browser is None:
        pytest.skip("no chromium on PATH (apt-get install chromium)")
    page = tmp_path / "report.html"
    written = maildesk_in_process(
        "report", *PERIOD, "--html", str(page), config=config_of(tmp_path)
    )
    assert written.returncode == 0, written.stderr

    shot = tmp_path / "report.png"
    common = [
        browser,
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    dom = subprocess.run(
        [*common, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=60
    )
    assert dom.returncode == 0, dom.stderr
    assert dom.stdout.count("<svg") == 6
    assert "<title>Test Support: report 2026-11-23 to 2026-11-24</title>" in dom.stdout
    assert LOGIN in dom.stdout
    picture = subprocess.run(
        [*common, f"--screenshot={shot}", "--window-size=1200,2000", page.as_uri()],
        capture_output=True,
        timeout=60,
    )
    assert picture.returncode == 0, picture.stderr
    assert shot.read_bytes().startswith(b"\x89PNG")
