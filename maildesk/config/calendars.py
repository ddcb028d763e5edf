"""`[[calendars]]`: working hours per weekday, holidays, make-up working days.

"default" is Monday to Friday 09:00-18:00 in the desk's time zone unless the
file gives one; teams and policies name the others (desk/calendar.py
turns these into working-time arithmetic).
"""

import re
from dataclasses import dataclass
from datetime import date, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from maildesk.config.toml_table import Table
from maildesk.errors import ConfigError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Span = tuple[time, time]


@dataclass(frozen=True)
class CalendarConfig:
    """Working hours per weekday (0 = Monday), holidays, and make-up working days."""

    name: str
    timezone: str
    hours: tuple[tuple[Span, ...], ...]  # seven entries, Monday first
    holidays: tuple[date, ...] = ()
    workdays: tuple[date, ...] = ()  # make-up days: worked with `workday_hours`
    workday_hours: tuple[Span, ...] = ()
    ics: Path | None = None
    country: str | None = None
    subdivision: str | None = None


NINE_TO_SIX: tuple[Span, ...] = ((time(9), time(18)),)


def default_calendar(timezone: str) -> CalendarConfig:
    """Monday to Friday, 09:00-18:00, in the desk's time zone."""
    return CalendarConfig("default", timezone, (NINE_TO_SIX,) * 5 + ((), ()), (), (), NINE_TO_SIX)


def calendars(items: list[Any], timezone: str) -> tuple[CalendarConfig, ...]:
    """`[[calendars]]`; "default" is Monday to Friday 09:00-18:00 unless one is given."""
    found = [_calendar(Table(item, f"calendars[{n}]"), timezone) for n, item in enumerate(items)]
    for index, calendar in enumerate(found):
        if calendar.name in (c.name for c in found[:index]):
            raise ConfigError(f"calendars[{index}].name: {calendar.name!r} is used twice")
    if not any(c.name == "default" for c in found):
        found.append(default_calendar(timezone))
    return tuple(found)


def _calendar(t: Table, timezone: str) -> CalendarConfig:
    zone = t.get("timezone", str, timezone)
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"{t.key('timezone')}: unknown time zone {zone!r}") from exc
    hours = t.get("hours", (str, dict), "09:00-18:00")
    week: tuple[tuple[Span, ...], ...]
    if isinstance(hours, str):
        week = (_spans(t.key("hours"), hours),) * 5 + ((), ())
    else:
        days = Table(hours, t.key("hours"))
        week = tuple(_spans(days.key(d), days.get(d, str, "")) for d in WEEKDAYS)
        days.reject_unknown()
    if not any(week):
        raise ConfigError(f"{t.key('hours')}: no working hours on any day of the week")
    workday_hours = _spans(t.key("workday_hours"), t.get("workday_hours", str, "")) or next(
        day for day in week if day
    )
    ics = t.get("ics", str, None)
    if ics is not None and not Path(ics).is_file():
        raise ConfigError(f"{t.key('ics')}: no file {ics!r}")
    calendar = CalendarConfig(
        name=t.get("name", str, "default"),
        timezone=zone,
        hours=week,
        holidays=_dates(t, "holidays"),
        workdays=_dates(t, "workdays"),
        workday_hours=workday_hours,
        ics=Path(ics) if ics else None,
        country=t.get("country", str, None),
        subdivision=t.get("subdivision", str, None),
    )
    t.reject_unknown()
    return calendar


def _spans(key: str, text: str) -> tuple[Span, ...]:
    """ "09:00-12:00, 13:30-18:00" -> spans; "" is a day off; "24:00" ends a day."""
    spans: list[Span] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        match = re.fullmatch(r"(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})", part)
        if match is None:
            raise ConfigError(f"{key}: {part!r} is not a span like 09:00-18:00")
        h1, m1, h2, m2 = map(int, match.groups())
        if h1 > 23 or m1 > 59 or m2 > 59 or (h2, m2) > (24, 0):
            raise ConfigError(f"{key}: {part!r} is not a time of day")
        start, end = time(h1, m1), time.max if (h2, m2) == (24, 0) else time(h2, m2)
        if end <= start or (spans and start < spans[-1][1]):
            raise ConfigError(f"{key}: {part!r} must end after it starts, spans in order")
        spans.append((start, end))
    return tuple(spans)


def _dates(t: Table, key: str) -> tuple[date, ...]:
    """ISO dates; "2026-10-01..2026-10-07" is a range, both ends included."""
    days: list[date] = []
    for item in t.get(key, list, []):
        text = item.isoformat() if isinstance(item, date) else item
        try:
            first, _, last = str(text).partition("..")
            start, end = (
                date.fromisoformat(first.strip()),
                date.fromisoformat((last or first).strip()),
            )
        except ValueError as exc:
            raise ConfigError(f"{t.key(key)}: {item!r} is not a date like 2026-10-01") from exc
        days += [date.fromordinal(n) for n in range(start.toordinal(), end.toordinal() + 1)]
    return tuple(days)
