"""Working time on a business calendar: spans per local day, sums of them, deadlines.

Spans come from local dates and wall times, so a DST change moves their UTC instants, never
the hours; integer microseconds keep add() and working_seconds() in exact agreement.
"""

from collections import Counter
from collections.abc import Container, Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import holidays
import icalendar
from dateutil.rrule import rrulestr

from maildesk.config.calendars import CalendarConfig, Span
from maildesk.errors import ConfigError

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
SEARCH_DAYS = 3 * 366  # how far ahead add() and next_working_start() look for working time
LAST_YEAR = 2100  # recurring ics events are expanded up to this year
_US = timedelta(microseconds=1)
_DAY = timedelta(days=1)
_FREQUENCIES = ("YEARLY", "MONTHLY", "WEEKLY", "DAILY")  # finer rules make no holidays

DaySpans = tuple[tuple[int, int], ...]  # [start, end) in microseconds since the epoch


class Clockwork(Protocol):
    """What the SLA clocks need of a calendar; WorkingCalendar and AroundTheClock both fit."""

    name: str
    zone: ZoneInfo
    day_seconds: float

    def spans(self, day: date) -> list[tuple[datetime, datetime]]: ...
    def is_working(self, at: datetime) -> bool: ...
    def next_working_start(self, at: datetime) -> datetime: ...
    def working_seconds(self, start: datetime, end: datetime) -> float: ...
    def add(self, start: datetime, seconds: float) -> datetime: ...


def _us(at: datetime) -> int:
    return (at - EPOCH) // _US


def _at(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=us)


def _length(span: Span) -> int:
    """Seconds in a span of wall time; `time.max` as an end is the following midnight."""
    start, end = (t.hour * 3600 + t.minute * 60 + t.second for t in span)
    return (86400 if span[1] == time.max else end) - start


class WorkingCalendar:
    """Working time on one calendar (zone, hours per weekday, holidays, make-up days).

    Each local date's spans are computed once and kept (a few hundred bytes per date
    ever asked about), since the SLA sweep asks about the same few weeks again and again.
    """

    def __init__(
        self,
        name: str,
        zone: ZoneInfo,
        week: tuple[tuple[Span, ...], ...],
        workday_hours: tuple[Span, ...] = (),
        days_off: Iterable[Container[date]] = (),
        workdays: Iterable[date] = (),
    ) -> None:
        self.name, self.zone = name, zone
        self._week = week
        self._workday_hours = workday_hours
        self._days_off = tuple(days_off)
        self._workdays = frozenset(workdays)
        lengths = Counter(sum(map(_length, day)) for day in week if day)
        self.day_seconds = float(lengths.most_common(1)[0][0]) if lengths else 0.0
        self._cache: dict[int, tuple[int, DaySpans]] = {}

    def _hours(self, day: date) -> tuple[Span, ...]:
        if day in self._workdays:  # a make-up day wins over a holiday on the same date
            return self._workday_hours
        if any(day in off for off in self._days_off):
            return ()
        return self._week[day.weekday()]

    def _instant(self, day: date, t: time) -> int:
        if t == time.max:
            return _us(datetime.combine(day + _DAY, time(), tzinfo=self.zone))
        return _us(datetime.combine(day, t, tzinfo=self.zone))

    def _day(self, ordinal: int) -> tuple[int, DaySpans]:
        """(working microseconds, spans) of the local date with this ordinal."""
        found = self._cache.get(ordinal)
        if found is None:
            day = date.fromordinal(ordinal)
            pairs = ((self._instant(day, a), self._instant(day, b)) for a, b in self._hours(day))
            spans = tuple((a, b) for a, b in pairs if b > a)  # a span lost in a DST gap
            found = self._cache[ordinal] = (sum(b - a for a, b in spans), spans)
        return found

    def _ordinal(self, at: datetime) -> int:
        return at.astimezone(self.zone).toordinal()

    def spans(self, day: date) -> list[tuple[datetime, datetime]]:
        """The working intervals of a local date, in UTC and in order; [] on a day off."""
        return [(_at(a), _at(b)) for a, b in self._day(day.toordinal())[1]]

    def is_working(self, at: datetime) -> bool:
        now = _us(at)
        return any(a <= now < b for a, b in self._day(self._ordinal(at))[1])

    def next_working_start(self, at: datetime) -> datetime:
        """`at` (in UTC) if it is working time, else the start of the next span."""
        now, first = _us(at), self._ordinal(at)
        for ordinal in range(first, first + SEARCH_DAYS):
            for a, b in self._day(ordinal)[1]:
                if b > now:
                    return _at(max(a, now))
        raise ValueError(f"calendar {self.name}: no working time within {SEARCH_DAYS} days")

    def working_seconds(self, start: datetime, end: datetime) -> float:
        """Working seconds in [start, end); 0 if end <= start."""
        s, e = _us(start), _us(end)
        if e <= s:
            return 0.0
        total = 0
        for ordinal in range(self._ordinal(start), self._ordinal(end) + 1):
            for a, b in self._day(ordinal)[1]:
                if b > s and a < e:
                    total += min(b, e) - max(a, s)
        return total / 1e6

    def add(self, start: datetime, seconds: float) -> datetime:
        """The earliest instant with `seconds` of working time since `start`, in UTC.

        seconds <= 0 gives `start` back; outside hours the count begins at the next span.
        """
        if seconds <= 0:
            return start
        left, now, first = round(seconds * 1e6), _us(start), self._ordinal(start)
        for ordinal in range(first, first + SEARCH_DAYS):
            total, spans = self._day(ordinal)
            if not total:
                continue
            if total < left and spans[0][0] >= now:  # the whole day is ahead: skip it
                left -= total
                continue
            for a, b in spans:
                a = max(a, now)
                if b > a:
                    if b - a >= left:
                        return _at(a + left)
                    left -= b - a
        raise ValueError(f"calendar {self.name}: no working time within {SEARCH_DAYS} days")


class AroundTheClock:
    """The 24x7 clock: same interface; working time is wall time (elapsed seconds)."""

    name = "24x7"
    zone = ZoneInfo("UTC")
    day_seconds = 86400.0

    def spans(self, day: date) -> list[tuple[datetime, datetime]]:
        start = datetime.combine(day, time(), tzinfo=UTC)
        return [(start, start + _DAY)]

    def is_working(self, at: datetime) -> bool:
        return True

    def next_working_start(self, at: datetime) -> datetime:
        return at.astimezone(UTC)

    def working_seconds(self, start: datetime, end: datetime) -> float:
        # In UTC: two datetimes sharing a tzinfo subtract as wall clocks, ignoring DST.
        return max(0.0, (end.astimezone(UTC) - start.astimezone(UTC)).total_seconds())

    def add(self, start: datetime, seconds: float) -> datetime:
        return start if seconds <= 0 else start.astimezone(UTC) + timedelta(seconds=seconds)


AROUND_THE_CLOCK = AroundTheClock()


def build(config: CalendarConfig) -> WorkingCalendar:
    """The calendar of one `[[calendars]]` entry, with its ics file and country holidays."""
    zone = ZoneInfo(config.timezone)
    days_off: list[Container[date]] = [frozenset(config.holidays)]
    if config.ics is not None:
        days_off.append(_ics_days(config.name, config.ics, zone))
    if config.country:
        try:  # lazy: each year is filled in the first time one of its dates is looked up
            days_off.append(holidays.country_holidays(config.country, subdiv=config.subdivision))
        except NotImplementedError as exc:
            raise ConfigError(f"calendars[{config.name}].country: {exc}") from exc
    # A CalendarConfig built by hand may leave the make-up days' hours to the usual ones.
    hours = config.workday_hours or next((day for day in config.hours if day), ())
    return WorkingCalendar(config.name, zone, config.hours, hours, days_off, config.workdays)


def build_all(configs: tuple[CalendarConfig, ...]) -> dict[str, WorkingCalendar]:
    return {config.name: build(config) for config in configs}


def _ics_days(name: str, path: Path, zone: ZoneInfo) -> frozenset[date]:
    """The local dates the file's VEVENTs cover.

    All-day events (DTEND exclusive, one day without it) and timed events (every local
    date they touch); RRULE is expanded up to LAST_YEAR for DAILY..YEARLY rules; EXDATE,
    RDATE and RECURRENCE-ID are not read.
    """
    try:
        calendar = icalendar.Calendar.from_ical(path.read_bytes())
        return frozenset(day for event in calendar.walk("VEVENT") for day in _days(event, zone))
    except (OSError, ValueError, TypeError) as exc:
        raise ConfigError(f"calendars[{name}].ics: cannot read {path}: {exc}") from exc


def _days(event: Any, zone: ZoneInfo) -> Iterator[date]:
    start = event.decoded("DTSTART", None)
    if not isinstance(start, date):
        raise ValueError(f"an event's DTSTART {start!r} is not a date")
    if "DTEND" in event:
        end = event.decoded("DTEND")
    elif "DURATION" in event:
        end = start + event.decoded("DURATION")
    else:
        end = start if isinstance(start, datetime) else start + _DAY
    for first in _occurrences(event, start):
        yield from _dates(first, first + (end - start), zone)


def _occurrences(event: Any, start: date) -> set[date]:
    rules = event.get("RRULE", [])
    found = {start}
    timed = isinstance(start, datetime)
    dtstart = start if timed else datetime.combine(start, time())
    for rule in rules if isinstance(rules, list) else [rules]:
        if rule.get("FREQ", [""])[0] not in _FREQUENCIES:
            raise ValueError(f"RRULE {rule.to_ical().decode()!r}: FREQ must be DAILY..YEARLY")
        for instant in rrulestr(rule.to_ical().decode(), dtstart=dtstart):
            if instant.year > LAST_YEAR:
                break
            found.add(instant if timed else instant.date())
    return found


def _dates(start: date, end: date, zone: ZoneInfo) -> Iterator[date]:
    """The local dates in [start, end); an event always covers its first date."""
    if isinstance(start, datetime) and isinstance(end, datetime):
        if start.tzinfo is not None:  # else floating: local time already
            start, end = start.astimezone(zone), end.astimezone(zone)
        first, last = start.date(), (end - _US).date()
    else:
        first, last = start, end - _DAY
    for ordinal in range(first.toordinal(), max(first, last).toordinal() + 1):
        yield date.fromordinal(ordinal)
