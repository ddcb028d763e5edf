"""What the acknowledgement promises: the response target, and when work starts.

A customer writing outside working hours to a desk whose clock runs on the
business calendar is told the next working day and time, in their language
(the standards: "outside working hours, promise the next working day").
"""

from datetime import datetime
from typing import Any

from maildesk.config.service_levels import Duration
from maildesk.desk.context import Desk
from maildesk.desk.sla import clocks
from maildesk.store.tables import Ticket

_UNITS_EN: dict[str, tuple[str, str]] = {  # unit: (one, many)
    "m": ("minute", "minutes"),
    "h": ("hour", "hours"),
    "d": ("day", "days"),
    "wh": ("working hour", "working hours"),
    "wd": ("working day", "working days"),
}
_UNITS_ZH: dict[str, str] = {
    "m": "分钟",
    "h": "小时",
    "d": "天",
    "wh": "个工作小时",
    "wd": "个工作日",
}
_WEEKDAYS_ZH = "一二三四五六日"


def ack_promise(app: Desk, ticket: Ticket, now: datetime) -> dict[str, Any]:
    """`response_target` ("2 working hours", "2 个工作小时") and `work_starts` (or "")."""
    policy = app.config.sla.policy(ticket.priority, ticket.team)
    duration = policy.first_response
    business = duration.working or policy.business_hours
    calendar = clocks.business_calendar(app, ticket)
    starts = ""
    if business and not calendar.is_working(now):
        starts = _when(calendar.next_working_start(now).astimezone(calendar.zone), ticket.locale)
    return {"response_target": describe(duration, business, ticket.locale), "work_starts": starts}


def describe(duration: Duration, business: bool, locale: str) -> str:
    unit = duration.unit
    if business and unit in ("m", "h"):
        unit = "wh" if unit == "h" else unit
    amount = f"{duration.amount:g}"
    if locale.startswith("zh"):
        prefix = "个工作" if business and unit == "m" else ""
        return f"{amount} {prefix}{_UNITS_ZH[unit]}"
    one, many = _UNITS_EN[unit]
    word = one if duration.amount == 1 else many
    if business and unit == "m":
        word = f"working {word}"
    return f"{amount} {word}"


def _when(local: datetime, locale: str) -> str:
    if locale.startswith("zh"):
        weekday = _WEEKDAYS_ZH[local.weekday()]
        return f"{local.year}年{local.month}月{local.day}日（星期{weekday}）{local:%H:%M}"
    return f"{local:%A} {local.day} {local:%B %Y}, {local:%H:%M} ({local.tzname()})"
