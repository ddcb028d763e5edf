"""[sla] and [[calendars]]: the standards' defaults, overrides per priority and team, and
errors that name the key."""

from datetime import date, time

import pytest

from maildesk.config import parse
from maildesk.config.service_levels import Duration
from maildesk.errors import ConfigError

MINIMAL = {"desk": {"name": "D", "timezone": "Asia/Shanghai"}, "database": {"url": "sqlite://"}}
TEAMS = {"teams": [{"name": "vip"}]}


def with_(**sections) -> dict:
    return {**MINIMAL, **TEAMS, **sections}


def test_defaults_are_the_standards_targets_and_ladder():
    sla = parse(with_()).sla
    targets = {p.priority: (p.first_response.text, p.resolution.text) for p in sla.policies}
    assert targets == {
        "P0": ("15m", "2h"),
        "P1": ("30m", "4h"),
        "P2": ("2h", "8wh"),
        "P3": ("4h", "3wd"),
    }
    assert [p.business_hours for p in sla.policies] == [False, False, True, True]
    assert [(lv.name, lv.share) for lv in sla.ladder] == [
        ("warn", 75),
        ("L1", 100),
        ("L2", 150),
        ("L3", 200),
        ("unassigned", 100),
    ]
    assert sla.levels("P2", "assignment")[0].notify == ("leads",)
    assert [lv.name for lv in sla.levels("P2", "resolution")] == ["warn", "L1", "L2", "L3"]
    assert (sla.review.text, sla.lead_answer.text, sla.review_priorities) == (
        "10m",
        "30m",
        ("P0", "P1"),
    )
    assert sla.escalation_request_window.seconds(0) == 24 * 3600
    assert parse(
        with_(sla={"escalation_request_window": "90m"})
    ).sla.escalation_request_window == (Duration("90m", 90.0, "m"))


def test_a_teams_policy_applies_to_its_tickets_only():
    policies = [{"priority": "P2", "resolution": "1wd", "team": "vip", "clock": "24x7"}]
    sla = parse(with_(sla={"policies": policies})).sla
    assert sla.policy("P2", "vip").resolution.text == "1wd"
    assert not sla.policy("P2", "vip").business_hours
    assert sla.policy("P2", None).resolution.text == "8wh"
    assert sla.policy("P2", "other").resolution.text == "8wh"


def test_calendars_read_hours_holidays_ranges_and_make_up_days():
    calendar = {
        "name": "cn",
        "hours": {"mon": "09:00-12:00, 13:00-18:00", "sat": "10:00-24:00"},
        "holidays": ["2026-10-01..2026-10-03", "2026-12-25"],
        "workdays": ["2026-09-27"],
    }
    config = parse(with_(calendars=[calendar], teams=[{"name": "vip", "calendar": "cn"}]))
    cn = next(c for c in config.calendars if c.name == "cn")
    assert cn.hours[0] == ((time(9), time(12)), (time(13), time(18)))
    assert cn.hours[5] == ((time(10), time.max),)
    assert cn.holidays == (
        date(2026, 10, 1),
        date(2026, 10, 2),
        date(2026, 10, 3),
        date(2026, 12, 25),
    )
    assert cn.workdays == (date(2026, 9, 27),) and cn.timezone == "Asia/Shanghai"
    assert {c.name for c in config.calendars} == {"cn", "default"}


@pytest.mark.parametrize(
    ("sections", "message"),
    [
        (
            {"sla": {"policies": [{"priority": "P2", "resolution": "8 hours"}]}},
            "sla.policies[0].resolution: '8 hours' is not a duration",
        ),
        ({"sla": {"policies": [{"priority": "P9"}]}}, "sla.policies[0].priority: 'P9'"),
        (
            {"sla": {"policies": [{"priority": "P2", "team": "nope"}]}},
            "sla.policies[0].team: no team called 'nope'",
        ),
        (
            {"sla": {"policies": [{"priority": "P2", "calendar": "nope"}]}},
            "sla.policies[0].calendar: no calendar called 'nope'",
        ),
        (
            {"sla": {"ladder": [{"name": "x", "at": "75"}]}},
            "sla.ladder[0].at: '75' is not a share",
        ),
        (
            {"sla": {"ladder": [{"name": "x", "at": "75%", "notify": ["boss"]}]}},
            "sla.ladder[0].notify: 'boss' is not one of assignee",
        ),
        (
            {"sla": {"ladder": [{"name": "x", "at": "75%", "clocks": ["lunch"]}]}},
            "sla.ladder[0].clocks: 'lunch'",
        ),
        ({"sla": {"digest_hour": 24}}, "sla.digest_hour: must be an hour"),
        ({"sla": {"review": "soon"}}, "sla.review: 'soon' is not a duration"),
        (
            {"sla": {"escalation_request_window": "a day"}},
            "sla.escalation_request_window: 'a day' is not a duration",
        ),
        (
            {"sla": {"escalation_request_window": "8wh"}},
            "sla.escalation_request_window: '8wh' is working time; a window is elapsed time",
        ),
        ({"sla": {"escalation_addresses": ["duty"]}}, "sla.escalation_addresses: 'duty'"),
        ({"sla": {"sweep_intervall": 60}}, "sla.sweep_intervall: unknown key"),
        ({"calendars": [{"hours": "9-18"}]}, "calendars[0].hours: '9-18' is not a span"),
        ({"calendars": [{"hours": "18:00-09:00"}]}, "calendars[0].hours: '18:00-09:00' must end"),
        ({"calendars": [{"hours": {"mon": ""}}]}, "calendars[0].hours: no working hours"),
        ({"calendars": [{"hours": {"mo": "09:00-18:00"}}]}, "calendars[0].hours.mo: unknown key"),
        ({"calendars": [{"holidays": ["1 Oct"]}]}, "calendars[0].holidays: '1 Oct' is not a date"),
        (
            {"calendars": [{"timezone": "Mars/Olympus"}]},
            "calendars[0].timezone: unknown time zone",
        ),
        ({"calendars": [{"ics": "/nonexistent.ics"}]}, "calendars[0].ics: no file"),
        ({"calendars": [{"name": "a"}, {"name": "a"}]}, "calendars[1].name: 'a' is used twice"),
        ({"teams": [{"name": "vip", "calendar": "x"}]}, "teams[0].calendar: no calendar called"),
    ],
)
def test_bad_service_levels_name_the_key(sections, message):
    with pytest.raises(ConfigError) as error:
        parse(with_(**sections))
    assert message in str(error.value)
