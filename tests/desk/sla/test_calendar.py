"""The business calendar: spans per local day, working seconds and deadlines, ics and holidays."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from maildesk.config.calendars import NINE_TO_SIX, CalendarConfig
from maildesk.desk.calendar import AROUND_THE_CLOCK, WorkingCalendar, build, build_all
from maildesk.errors import ConfigError
from tests.support import fuzz

BERLIN = ZoneInfo("Europe/Berlin")
SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
HOUR = 3600.0
LUNCH = ((time(9), time(12)), (time(13), time(18)))


def calendar(zone: ZoneInfo = BERLIN, hours=NINE_TO_SIX, **kwargs) -> WorkingCalendar:
    week = (hours,) * 5 + ((), ())
    return build(CalendarConfig("support", zone.key, week, **kwargs))


def at(zone: ZoneInfo, *fields: int) -> datetime:
    return datetime(*fields, tzinfo=zone)


def local(moment: datetime, zone: ZoneInfo = BERLIN) -> datetime:
    assert moment.utcoffset() == timedelta(0)
    return moment.astimezone(zone).replace(tzinfo=None)


def test_the_count_stops_overnight():
    cal = calendar()
    start = at(BERLIN, 2026, 6, 1, 17)  # a Monday
    assert local(cal.add(start, 2 * HOUR)) == datetime(2026, 6, 2, 10)
    assert cal.working_seconds(start, at(BERLIN, 2026, 6, 2, 10)) == 2 * HOUR


def test_the_count_stops_over_the_weekend():
    cal = calendar()
    start = at(BERLIN, 2026, 6, 5, 17)  # a Friday
    assert local(cal.add(start, 2 * HOUR)) == datetime(2026, 6, 8, 10)
    assert cal.working_seconds(start, at(BERLIN, 2026, 6, 8, 10)) == 2 * HOUR


def test_a_listed_holiday_is_a_day_off():
    cal = calendar(holidays=(date(2026, 5, 1),))  # a Friday
    assert cal.spans(date(2026, 5, 1)) == []
    assert local(cal.add(at(BERLIN, 2026, 4, 30, 17), 2 * HOUR)) == datetime(2026, 5, 4, 10)


def test_ics_holidays_all_day_timed_and_yearly(tmp_path):
    ics = tmp_path / "holidays.ics"
    events = [
        "DTSTART;VALUE=DATE:20261224\r\nDTEND;VALUE=DATE:20261226",  # DTEND exclusive
        "DTSTART;VALUE=DATE:20260415",  # no DTEND: one day
        "DTSTART:20260310T230000Z\r\nDTEND:20260311T010000Z",  # 07:00-09:00 in Shanghai
        "DTSTART;VALUE=DATE:20200101\r\nRRULE:FREQ=YEARLY",
        "DTSTART;VALUE=DATE:20201126\r\nRRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=4TH",
    ]
    body = "".join(
        f"BEGIN:VEVENT\r\nUID:{n}\r\n{e}\r\nEND:VEVENT\r\n" for n, e in enumerate(events)
    )
    ics.write_text(f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:t\r\n{body}END:VCALENDAR\r\n")
    cal = calendar(SHANGHAI, ics=ics)
    off = [date(2026, 12, 24), date(2026, 12, 25), date(2026, 4, 15), date(2026, 3, 11)]
    off += [date(2027, 1, 1), date(2099, 1, 1), date(2026, 11, 26)]  # Thanksgiving 2026
    assert [day for day in off if cal.spans(day)] == []
    worked = [date(2026, 12, 23), date(2026, 3, 10), date(2026, 4, 16), date(2026, 11, 19)]
    assert all(cal.spans(day) for day in worked)


def test_country_holidays_come_from_the_holidays_package():
    cal = calendar(SHANGHAI, country="CN")
    assert cal.spans(date(2026, 10, 1)) == []  # National Day, a Thursday
    assert cal.spans(date(2026, 9, 30)) != []
    assert cal.spans(date(2035, 10, 1)) == []  # years are filled in as they are asked


def test_a_make_up_saturday_is_worked_with_workday_hours_even_if_also_a_holiday():
    sat = date(2026, 9, 26)
    cal = calendar(
        SHANGHAI,
        workdays=(sat,),
        holidays=(sat,),
        workday_hours=((time(10), time(16)),),
    )
    assert [(local(a, SHANGHAI), local(b, SHANGHAI)) for a, b in cal.spans(sat)] == [
        (datetime(2026, 9, 26, 10), datetime(2026, 9, 26, 16))
    ]
    friday_late = at(SHANGHAI, 2026, 9, 25, 17)
    assert local(cal.add(friday_late, 2 * HOUR), SHANGHAI) == datetime(2026, 9, 26, 11)
    assert calendar(SHANGHAI).spans(sat) == []


def test_a_lunch_break_is_not_counted():
    cal = calendar(hours=LUNCH)
    assert local(cal.add(at(BERLIN, 2026, 6, 1, 11), 2 * HOUR)) == datetime(2026, 6, 1, 14)
    assert cal.working_seconds(at(BERLIN, 2026, 6, 1, 11), at(BERLIN, 2026, 6, 1, 14)) == 7200
    assert not cal.is_working(at(BERLIN, 2026, 6, 1, 12, 30))
    assert local(cal.next_working_start(at(BERLIN, 2026, 6, 1, 12, 30))) == datetime(
        2026, 6, 1, 13
    )
    assert cal.day_seconds == 8 * HOUR


@pytest.mark.parametrize(
    ("zone", "friday"),
    [(BERLIN, date(2026, 3, 27)), (BERLIN, date(2026, 10, 23))]
    + [(NEW_YORK, date(2026, 3, 6)), (NEW_YORK, date(2026, 10, 30))],
)
def test_a_dst_change_over_the_weekend_does_not_move_the_deadline(zone, friday):
    cal = calendar(zone)
    start = datetime.combine(friday, time(14), tzinfo=zone)
    due = cal.add(start, 8 * HOUR)
    assert local(due, zone) == datetime.combine(friday + timedelta(days=3), time(13))
    assert cal.working_seconds(start, due) == 8 * HOUR


def test_a_mail_at_23_59_on_friday_in_shanghai():
    cal = calendar(SHANGHAI)
    due = cal.add(at(SHANGHAI, 2026, 6, 5, 23, 59), 2 * HOUR)
    assert local(due, SHANGHAI) == datetime(2026, 6, 8, 11)


def test_three_working_days():
    cal = calendar()
    assert cal.day_seconds == 9 * HOUR
    three = 3 * cal.day_seconds
    assert local(cal.add(at(BERLIN, 2026, 6, 1, 10), three)) == datetime(2026, 6, 4, 10)
    # From Saturday noon the count starts on Monday at 09:00.
    saturday = at(BERLIN, 2026, 6, 6, 12)
    assert local(cal.add(saturday, 1)) == datetime(2026, 6, 8, 9, 0, 1)
    assert local(cal.add(saturday, three)) == datetime(2026, 6, 10, 18)


def test_day_seconds_is_the_most_common_working_day():
    week = (NINE_TO_SIX,) * 5 + (((time(9), time(13)),), ((time(0), time.max),))
    cal = build(CalendarConfig("shop", "UTC", week))
    assert cal.day_seconds == 9 * HOUR
    sunday = date(2026, 6, 7)
    midnight = datetime(2026, 6, 7, tzinfo=UTC)
    assert cal.spans(sunday) == [(midnight, midnight + timedelta(days=1))]


@fuzz(300)
@given(
    start=st.datetimes(datetime(2025, 1, 1), datetime(2028, 1, 1), timezones=st.just(UTC)),
    seconds=st.integers(1, 40 * 9 * 3600),
    micro=st.integers(0, 999_999),
)
def test_add_and_working_seconds_agree(start, seconds, micro):
    cal = calendar(hours=LUNCH, holidays=(date(2026, 10, 1),))
    amount = seconds + micro / 1e6
    due = cal.add(start, amount)
    assert cal.working_seconds(start, due) == pytest.approx(amount, abs=1e-6), "to the µs"
    assert cal.working_seconds(start, due - timedelta(microseconds=1)) < amount  # earliest
    assert due.tzinfo == UTC


def test_no_time_or_negative_time_gives_the_start_back():
    cal = calendar()
    saturday = at(BERLIN, 2026, 6, 6, 12)
    assert cal.add(saturday, 0) is saturday
    assert cal.add(saturday, -60) is saturday
    assert cal.working_seconds(at(BERLIN, 2026, 6, 2, 12), at(BERLIN, 2026, 6, 1, 12)) == 0


def test_span_edges_start_inclusive_end_exclusive():
    cal = calendar()
    opening, closing = at(BERLIN, 2026, 6, 5, 9), at(BERLIN, 2026, 6, 5, 18)
    assert cal.is_working(opening)
    assert cal.is_working(closing - timedelta(microseconds=1))
    assert not cal.is_working(closing)
    assert not cal.is_working(opening - timedelta(microseconds=1))
    assert cal.next_working_start(opening) == opening
    assert cal.next_working_start(opening).tzinfo == UTC
    assert local(cal.next_working_start(closing)) == datetime(2026, 6, 8, 9)
    assert local(cal.add(opening, 9 * HOUR)) == datetime(2026, 6, 5, 18)  # not Monday 09:00


def test_no_working_time_ahead_is_an_error():
    cal = build(CalendarConfig("never", "UTC", ((),) * 7))
    with pytest.raises(ValueError, match="no working time"):
        cal.add(datetime(2026, 1, 1, tzinfo=UTC), 1)
    with pytest.raises(ValueError, match="no working time"):
        cal.next_working_start(datetime(2026, 1, 1, tzinfo=UTC))


def test_around_the_clock_counts_wall_seconds_across_dst():
    start, end = at(BERLIN, 2026, 3, 28, 12), at(BERLIN, 2026, 3, 29, 12)
    assert AROUND_THE_CLOCK.working_seconds(start, end) == 23 * HOUR
    assert AROUND_THE_CLOCK.working_seconds(end, start) == 0
    assert local(AROUND_THE_CLOCK.add(start, 24 * HOUR)) == datetime(2026, 3, 29, 13)
    assert AROUND_THE_CLOCK.add(start, 0) is start
    assert AROUND_THE_CLOCK.is_working(start)
    assert AROUND_THE_CLOCK.next_working_start(start) == start
    assert AROUND_THE_CLOCK.day_seconds == 86400
    midnight = datetime(2026, 3, 29, tzinfo=UTC)
    assert AROUND_THE_CLOCK.spans(date(2026, 3, 29)) == [(midnight, midnight + timedelta(1))]


def event(lines: str) -> str:
    return f"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\n{lines}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"


@pytest.mark.parametrize(
    "content",
    [
        None,  # no such file
        "not a calendar",
        event("DTSTART:notadate"),
        event("DTSTART:20260101T090000Z\r\nRRULE:FREQ=HOURLY"),
    ],
)
def test_an_unreadable_ics_names_the_key(tmp_path, content):
    ics = tmp_path / "holidays.ics"
    if content is not None:
        ics.write_text(content)
    with pytest.raises(ConfigError, match=r"calendars\[support\]\.ics: cannot read .*holidays"):
        calendar(ics=ics)


def test_an_unknown_country_names_the_key():
    with pytest.raises(ConfigError, match=r"calendars\[support\]\.country: .*XX"):
        calendar(country="XX")


def test_build_all_keys_calendars_by_name():
    week = (NINE_TO_SIX,) * 5 + ((), ())
    configs = (CalendarConfig("default", "UTC", week), CalendarConfig("cn", "Asia/Shanghai", week))
    found = build_all(configs)
    assert list(found) == ["default", "cn"]
    assert found["cn"].zone == SHANGHAI
