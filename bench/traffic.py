"""The simulated month's models: when customers write, about what, how fast agents
answer and resolve, how customers rate. Pure functions of a seeded random.Random.

Why these shapes: support mail follows the working week (a morning and an
afternoon peak, a quiet night, a fifth of the weekday volume at weekends);
response times are right-skewed (lognormal), so most tickets meet their target
and some breach it; urgent work is answered around the clock, the rest in working
hours. The subjects carry the words the desk's rules look for, so priorities and
categories come from the rules, not from the simulation.
"""

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

ZONE = ZoneInfo("Asia/Shanghai")
# mails an hour on a weekday, by local hour (0-23); weekends take WEEKEND of it
HOURLY = (0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 4.0, 3.6,
          2.2, 2.8, 3.6, 3.4, 3.0, 2.4, 1.4, 0.9, 0.7, 0.5, 0.4, 0.3)  # fmt: skip
WEEKEND = 0.2
OPEN_HOUR, CLOSE_HOUR = 9, 18  # the agents' working day, Monday to Friday


@dataclass(frozen=True)
class Topic:
    """What a customer writes about: subjects (the rules' words in them), a body, odds."""

    weight: float
    subjects: tuple[str, ...]
    body: str


TOPICS = (
    Topic(
        0.06,
        ("Outage: checkout is down", "网站宕机，无法下单"),
        "Nothing works since a few minutes.",
    ),
    Topic(
        0.14,
        ("Cannot log in since this morning", "无法登录后台"),
        "The login page says the password is wrong.",
    ),
    Topic(
        0.22, ("Export to Excel fails", "报表导出失败"), "The export stops with an error at 90 %."
    ),
    Topic(
        0.18,
        ("Question about my invoice", "发票抬头有误"),
        "The invoice shows the wrong company name.",
    ),
    Topic(
        0.25,
        ("How do I add a second user?", "如何修改绑定手机号"),
        "Where do I find this setting?",
    ),
    Topic(0.15, ("Feature request: dark mode", "建议：增加批量导入"), "It would help us a lot."),
)
# median minutes and spread (sigma of the log) of an agent's first answer and of the
# work to resolve after it, by the priority the rules gave
FIRST_ANSWER = {"P0": (7, 0.7), "P1": (15, 0.7), "P2": (60, 0.8), "P3": (120, 0.8)}
RESOLVE = {"P0": (45, 0.6), "P1": (120, 0.7), "P2": (300, 0.8), "P3": (900, 0.9)}
AROUND_THE_CLOCK = {"P0", "P1"}
ASKS_BACK, CUSTOMER_ANSWERS = 0.25, (180, 1.0)  # the agent asks first; the customer's delay
REOPENS, REOPEN_AFTER = 0.08, (600, 0.8)  # writes back after the resolution: "still broken"
SURVEY_ANSWERED, SURVEY_DELAY = 0.45, (240, 1.0)
RATINGS = ("1 很不满意", "2 too slow", "3 一般", "4 满意", "5 非常满意")
MET_ODDS, BREACHED_ODDS = (1, 1, 3, 10, 20), (3, 4, 6, 5, 3)  # weights of 1..5
NOT_SOLVED = 0.04


def arrivals(rng: random.Random, start: datetime, days: int, scale: float) -> list[datetime]:
    """Moments customers write, a Poisson process whose rate changes by the local hour."""
    found = []
    for hour in range(days * 24):
        begin = start + timedelta(hours=hour)
        local = begin.astimezone(ZONE)
        rate = HOURLY[local.hour] * scale * (WEEKEND if local.weekday() >= 5 else 1.0)
        at = 0.0  # minutes into the hour; gaps between mails are exponential
        while (at := at + rng.expovariate(rate) * 60) < 60:
            found.append(begin + timedelta(minutes=at))
    return found


def topic(rng: random.Random) -> Topic:
    return rng.choices(TOPICS, weights=[t.weight for t in TOPICS])[0]


def minutes(rng: random.Random, model: tuple[float, float]) -> float:
    median, sigma = model
    return median * math.exp(rng.gauss(0.0, sigma))


def working(moment: datetime) -> datetime:
    """`moment`, or the next opening of the agents' day when it falls outside it."""
    local = moment.astimezone(ZONE)
    while local.weekday() >= 5 or not OPEN_HOUR <= local.hour < CLOSE_HOUR:
        local = (local + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    return local.astimezone(moment.tzinfo)


def agent_delay(rng: random.Random, now: datetime, priority: str, model: dict) -> datetime:
    """When the agent's move happens: around the clock for P0/P1, else in working hours."""
    begin = now if priority in AROUND_THE_CLOCK else working(now)
    return begin + timedelta(minutes=minutes(rng, model[priority]))


def rating(rng: random.Random, breached: bool) -> str:
    """A survey answer, worse when a clock of the ticket breached; now and then "not solved"."""
    if rng.random() < NOT_SOLVED:
        return "not solved 未解决"
    return rng.choices(RATINGS, weights=BREACHED_ODDS if breached else MET_ODDS)[0]
