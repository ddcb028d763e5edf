"""`[sla]`, `[[sla.policies]]` and `[[sla.ladder]]`: the targets and the escalation ladder.

Defaults are the support standards' targets (P0 15 min / 2 h around the
clock, P1 30 min / 4 h, P2 2 h / 8 working hours, P3 4 h / 3 working days)
and the ladder warn 75 %, L1 100 %, L2 150 %, L3 200 %. A policy or level
given in the file replaces the default of its priority; the rest stay.
"""

import re
from dataclasses import dataclass, field
from typing import Any

from maildesk.config.toml_table import Table
from maildesk.errors import ConfigError

PRIORITIES = ("P0", "P1", "P2", "P3")
CLOCKS = ("first_response", "resolution", "review", "lead_answer", "assignment")
TARGET_CLOCKS = ("first_response", "resolution")  # the ones a policy sets
NOTIFY_ROLES = ("assignee", "leads", "team", "escalation")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(m|h|d|wh|wd)\s*$")
_UNIT_SECONDS = {"m": 60.0, "h": 3600.0, "d": 86400.0, "wh": 3600.0}
# Customers who write that their ticket deserves a higher level (the standards' rule:
# such a ticket goes to the team lead). Agents use #escalate.
DEFAULT_TOO_LOW = (
    r"(?i)(priority|level|severity)\s+(is\s+)?(too\s+low|should\s+be\s+higher)"
    r"|please\s+escalate|级别太低|优先级太低|等级太低|请升级|要求升级"
)


@dataclass(frozen=True)
class Duration:
    """`15m`, `2h`, `1d`, `8wh`, `3wd`: m/h/d follow the policy's clock; wh/wd are working time."""

    text: str
    amount: float
    unit: str

    @property
    def working(self) -> bool:
        return self.unit in ("wh", "wd")

    def seconds(self, day_seconds: float) -> float:
        """The length in seconds of the clock it runs on; a working day is `day_seconds`."""
        if self.unit == "wd":
            return self.amount * day_seconds
        return self.amount * _UNIT_SECONDS[self.unit]


@dataclass(frozen=True)
class Policy:
    """The targets of one priority (optionally for one team only)."""

    priority: str
    first_response: Duration
    resolution: Duration
    business_hours: bool  # m/h/d on the calendar's working time, not around the clock
    calendar: str | None = None  # else the team's, else "default"
    team: str | None = None

    def target(self, clock: str) -> Duration:
        return self.first_response if clock == "first_response" else self.resolution


@dataclass(frozen=True)
class Level:
    """A rung of the ladder: at `share` % of a clock's target, tell people and act."""

    name: str
    share: int
    notify: tuple[str, ...]  # assignee | leads | team | escalation | an address
    raise_priority: bool = False
    reassign_team: str | None = None
    priorities: tuple[str, ...] = PRIORITIES
    clocks: tuple[str, ...] = CLOCKS

    @property
    def is_warning(self) -> bool:
        return self.share < 100


def parse_duration(text: Any, key: str) -> Duration:
    match = _DURATION.match(text) if isinstance(text, str) else None
    if match is None or float(match.group(1)) <= 0:
        raise ConfigError(
            f"{key}: {text!r} is not a duration like 15m, 2h, 1d, 8wh (working hours)"
            " or 3wd (working days)"
        )
    return Duration(text.strip(), float(match.group(1)), match.group(2))


def _d(text: str) -> Duration:
    return parse_duration(text, "sla")


DEFAULT_POLICIES = (
    Policy("P0", _d("15m"), _d("2h"), business_hours=False),
    Policy("P1", _d("30m"), _d("4h"), business_hours=False),
    Policy("P2", _d("2h"), _d("8wh"), business_hours=True),
    Policy("P3", _d("4h"), _d("3wd"), business_hours=True),
)
_TIMED = CLOCKS[:4]  # the clocks of targets; "assignment" has its own rung
DEFAULT_LADDER = (
    Level("warn", 75, ("assignee",), clocks=_TIMED),
    Level("L1", 100, ("assignee", "leads"), clocks=_TIMED),
    Level("L2", 150, ("leads", "escalation"), clocks=_TIMED),
    Level("L3", 200, ("leads", "escalation"), clocks=_TIMED),
    # The standards: a ticket is routed within 10 minutes, else a lead assigns it.
    Level("unassigned", 100, ("leads",), clocks=("assignment",)),
)


@dataclass(frozen=True)
class SlaConfig:
    policies: tuple[Policy, ...] = DEFAULT_POLICIES
    ladder: tuple[Level, ...] = DEFAULT_LADDER
    sweep_interval: float = 60.0
    quiet_hours: bool = False  # warnings wait for working hours; breaches never wait
    late_after: float = 300.0  # a level fired this much past its moment is marked late
    review: Duration = field(default_factory=lambda: _d("10m"))
    review_priorities: tuple[str, ...] = ("P0", "P1")
    lead_answer: Duration = field(default_factory=lambda: _d("30m"))
    assignment: Duration = field(default_factory=lambda: _d("10m"))
    too_low: re.Pattern[str] = re.compile(DEFAULT_TOO_LOW)
    escalation_addresses: tuple[str, ...] = ()
    # A customer's "priority too low" reaches the leads once per ticket in this window.
    escalation_request_window: Duration = field(default_factory=lambda: _d("24h"))
    digest: bool = False
    digest_hour: int = 8

    def policy(self, priority: str, team: str | None) -> Policy:
        """The team's own policy for `priority` if it has one, else the desk's."""
        mine = [p for p in self.policies if p.priority == priority]
        return next((p for p in mine if team and p.team == team), None) or next(
            p for p in mine if p.team is None
        )

    def levels(self, priority: str, clock: str) -> tuple[Level, ...]:
        """The ladder of one clock of a ticket at `priority`, lowest share first."""
        found = [lv for lv in self.ladder if priority in lv.priorities and clock in lv.clocks]
        return tuple(sorted(found, key=lambda lv: lv.share))


def sla(t: Table | None, teams: set[str]) -> SlaConfig:
    t = t or Table({}, "sla")
    default = SlaConfig()
    policies = _policies(t.get("policies", list, []), teams)
    ladder = _ladder(t.get("ladder", list, []), teams)
    addresses = tuple(t.get("escalation_addresses", list, []))
    for address in addresses:
        if not isinstance(address, str) or "@" not in address:
            raise ConfigError(f"{t.key('escalation_addresses')}: {address!r} is not an address")
    review_priorities = tuple(t.get("review_priorities", list, list(default.review_priorities)))
    for priority in review_priorities:
        _check_priority(t, "review_priorities", priority)
    digest_hour = t.count("digest_hour", default.digest_hour)
    if digest_hour > 23:
        raise ConfigError(f"{t.key('digest_hour')}: must be an hour 0..23, got {digest_hour}")
    config = SlaConfig(
        policies=policies,
        ladder=ladder,
        sweep_interval=t.positive("sweep_interval", default.sweep_interval),
        quiet_hours=t.get("quiet_hours", bool, False),
        late_after=t.positive("late_after", default.late_after),
        review=parse_duration(t.get("review", str, "10m"), t.key("review")),
        review_priorities=review_priorities,
        lead_answer=parse_duration(t.get("lead_answer", str, "30m"), t.key("lead_answer")),
        assignment=parse_duration(t.get("assignment", str, "10m"), t.key("assignment")),
        too_low=t.regex("too_low_regex") or default.too_low,
        escalation_addresses=addresses,
        escalation_request_window=_wall_clock(t, "escalation_request_window", "24h"),
        digest=t.get("digest", bool, False),
        digest_hour=digest_hour,
    )
    t.reject_unknown()
    return config


def _policies(items: list[Any], teams: set[str]) -> tuple[Policy, ...]:
    given: list[Policy] = []
    for index, item in enumerate(items):
        t = Table(item, f"sla.policies[{index}]")
        priority = _check_priority(t, "priority", t.get("priority", str))
        default = next(p for p in DEFAULT_POLICIES if p.priority == priority)
        team = _team(t, "team", teams)
        policy = Policy(
            priority=priority,
            first_response=_duration(t, "first_response", default.first_response),
            resolution=_duration(t, "resolution", default.resolution),
            business_hours=t.choice(
                "clock", ("24x7", "business"), "business" if default.business_hours else "24x7"
            )
            == "business",
            calendar=t.get("calendar", str, None),
            team=team,
        )
        if any(p.priority == priority and p.team == team for p in given):
            raise ConfigError(f"{t.path}: a second policy for {priority} (team {team})")
        t.reject_unknown()
        given.append(policy)
    kept = [p for p in DEFAULT_POLICIES if not any(g.priority == p.priority for g in given)]
    missing = {g.priority for g in given if g.team} - {g.priority for g in given if not g.team}
    kept += [p for p in DEFAULT_POLICIES if p.priority in missing]
    return tuple(given + kept)


def _ladder(items: list[Any], teams: set[str]) -> tuple[Level, ...]:
    if not items:
        return DEFAULT_LADDER
    levels = []
    for index, item in enumerate(items):
        t = Table(item, f"sla.ladder[{index}]")
        at = t.get("at", str)
        match = re.fullmatch(r"\s*(\d+)\s*%\s*", at)
        if match is None or int(match.group(1)) == 0:
            raise ConfigError(f"{t.key('at')}: {at!r} is not a share like 75%")
        notify = tuple(t.get("notify", list, ["assignee"]))
        for who in notify:
            if not isinstance(who, str) or (who not in NOTIFY_ROLES and "@" not in who):
                raise ConfigError(
                    f"{t.key('notify')}: {who!r} is not one of {', '.join(NOTIFY_ROLES)}"
                    " or an address"
                )
        priorities = tuple(t.get("priorities", list, list(PRIORITIES)))
        for priority in priorities:
            _check_priority(t, "priorities", priority)
        clocks = tuple(t.get("clocks", list, list(CLOCKS)))
        for clock in clocks:
            if clock not in CLOCKS:
                known = ", ".join(CLOCKS)
                raise ConfigError(f"{t.key('clocks')}: {clock!r} is not one of {known}")
        level = Level(
            name=t.get("name", str),
            share=int(match.group(1)),
            notify=notify,
            raise_priority=t.get("raise_priority", bool, False),
            reassign_team=_team(t, "reassign_team", teams),
            priorities=priorities,
            clocks=clocks,
        )
        t.reject_unknown()
        levels.append(level)
    return tuple(levels)


def _wall_clock(t: Table, key: str, default: str) -> Duration:
    """A window of elapsed time: working hours or days (wh, wd) are not one."""
    duration = parse_duration(t.get(key, str, default), t.key(key))
    if duration.working:
        raise ConfigError(
            f"{t.key(key)}: {duration.text!r} is working time; a window is elapsed time"
            " (m, h or d)"
        )
    return duration


def _duration(t: Table, key: str, default: Duration) -> Duration:
    return parse_duration(t.get(key, str, default.text), t.key(key))


def _check_priority(t: Table, key: str, priority: Any) -> str:
    if priority not in PRIORITIES:
        raise ConfigError(f"{t.key(key)}: {priority!r} is not one of P0..P3")
    return priority


def _team(t: Table, key: str, teams: set[str]) -> str | None:
    team = t.get(key, str, None)
    if team is not None and team not in teams:
        raise ConfigError(f"{t.key(key)}: no team called {team!r} in [[teams]]")
    return team
