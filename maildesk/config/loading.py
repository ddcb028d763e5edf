"""TOML file → Config, validated once at start: every error names the offending key
(`rules[2].priority: ...`) so an operator can fix the file without reading code."""

import os
import tomllib
from dataclasses import replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from maildesk.config import (
    calendars,
    kb,
    logs,
    loops,
    metrics,
    people,
    secrets,
    servers,
    service_levels,
    surveys,
)
from maildesk.config.retention import retention
from maildesk.config.service_levels import SlaConfig
from maildesk.config.settings import (
    PRIORITIES,
    Config,
    DatabaseConfig,
    DeskConfig,
    IntakeConfig,
    OutboxConfig,
    Rule,
    SmtpConfig,
    TeamConfig,
)
from maildesk.config.toml_table import Table
from maildesk.errors import ConfigError


def load(path: str | os.PathLike[str]) -> Config:
    """Read and validate the TOML file at `path`."""
    path = Path(path)
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: config file not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    return parse(data, path)


def parse(data: dict[str, Any], path: Path | None = None) -> Config:
    """Validate an already-parsed TOML document."""
    root = Table(data, "")
    smtp = servers.smtp(root.table("smtp", required=False))
    desk = _desk(root.table("desk"), smtp)
    agents = people.agents(root.get("agents", list, []))
    teams = people.teams(root.get("teams", list, []), agents)
    found_calendars = calendars.calendars(root.get("calendars", list, []), desk.timezone)
    sla = service_levels.sla(root.table("sla", required=False), {t.name for t in teams})
    _check_calendar_names(sla, teams, {c.name for c in found_calendars})
    config = Config(
        desk=replace(desk, default_team=people.default_team(desk.default_team, teams)),
        database=_database(root.table("database")),
        mailboxes=servers.mailboxes(root),
        smtp=smtp,
        outbox=_outbox(root.table("outbox", required=False)),
        intake=_intake(root.table("intake", required=False)),
        rules=_rules(root.get("rules", list, [])),
        loops=loops.loops(root.table("loops", required=False)),
        agents=agents,
        teams=teams,
        agent_mail=people.agent_mail(root.table("agent_mail", required=False)),
        sla=sla,
        calendars=found_calendars,
        survey=surveys.survey(root.table("survey", required=False)),
        web=surveys.web(root.table("web", required=False)),
        bounces=loops.bounces(root.table("bounces", required=False)),
        kb=kb.kb(root.table("kb", required=False)),
        retention=retention(root.table("retention", required=False)),
        metrics=metrics.metrics(root.table("metrics", required=False)),
        log=logs.log(root.table("log", required=False)),
        path=path,
    )
    root.reject_unknown()
    loops.check_return_path_apart(config)
    return config


def _check_calendar_names(sla: SlaConfig, teams: tuple[TeamConfig, ...], names: set[str]) -> None:
    """Every calendar a policy or team names is one of [[calendars]]."""
    named = [(f"sla.policies[{n}].calendar", p.calendar) for n, p in enumerate(sla.policies)]
    named += [(f"teams[{n}].calendar", t.calendar) for n, t in enumerate(teams)]
    for key, name in named:
        if name is not None and name not in names:
            raise ConfigError(f"{key}: no calendar called {name!r} in [[calendars]]")


def _desk(t: Table, smtp: SmtpConfig | None) -> DeskConfig:
    tag = t.get("subject_tag", str, "[Ticket#{number}]")
    if tag.count("{number}") != 1:
        raise ConfigError(f"{t.key('subject_tag')}: must contain {{number}} exactly once")
    zone = t.get("timezone", str, "UTC")
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"{t.key('timezone')}: unknown time zone {zone!r}") from exc
    templates_dir = t.get("templates_dir", str, "")
    default_instance = smtp.from_address.rpartition("@")[2] if smtp else "maildesk"
    desk = DeskConfig(
        name=t.get("name", str),
        subject_tag=tag,
        timezone=zone,
        default_locale=t.get("default_locale", str, "en"),
        secret=secrets.secret(t, "secret", "MAILDESK_SECRET"),
        instance=t.get("instance", str, default_instance) or default_instance,
        templates_dir=Path(templates_dir) if templates_dir else None,
        default_team=t.get("default_team", str, None),
    )
    t.reject_unknown()
    return desk


def _outbox(t: Table | None) -> OutboxConfig:
    t = t or Table({}, "outbox")
    outbox = OutboxConfig(
        max_attempts=int(t.positive("max_attempts", 8)),
        retry_base_seconds=t.positive("retry_base_seconds", 30.0),
        retry_max_seconds=t.positive("retry_max_seconds", 3600.0),
        batch_size=int(t.positive("batch_size", 100)),
        drain_interval=t.positive("drain_interval", 5.0),
        claim_seconds=t.positive("claim_seconds", 300.0),
        connections=int(t.positive("connections", 3)),
    )
    t.reject_unknown()
    return outbox


def _database(t: Table) -> DatabaseConfig:
    url, busy_timeout = t.get("url", str), t.positive("busy_timeout", 30.0)
    database = DatabaseConfig(url, busy_timeout, secrets.secret(t, "password"))
    t.reject_unknown()
    return database


def _intake(t: Table | None) -> IntakeConfig:
    t = t or Table({}, "intake")
    intake = IntakeConfig(
        ack_follow_ups=t.get("ack_follow_ups", bool, False),
        max_attachment_bytes=int(t.positive("max_attachment_bytes", 10 * 1024 * 1024)),
        max_message_bytes=int(t.positive("max_message_bytes", 50 * 1024 * 1024)),
        parse_seconds=t.positive("parse_seconds", 30.0),
        parse_memory_mb=int(t.positive("parse_memory_mb", 2048)),
    )
    t.reject_unknown()
    return intake


def _rules(items: list[Any]) -> tuple[Rule, ...]:
    return tuple(_rule(Table(item, f"rules[{index}]")) for index, item in enumerate(items))


def _rule(t: Table) -> Rule:
    priority = t.get("priority", str, None)
    if priority is not None and priority not in PRIORITIES:
        raise ConfigError(f"{t.key('priority')}: {priority!r} is not one of P0..P3")
    domains = t.get("sender_domain", (str, list), [])
    domains = [domains] if isinstance(domains, str) else domains
    headers = t.table("headers", required=False)
    header_rules = (
        ()
        if headers is None
        else tuple((name.lower(), headers.regex(name, required=True)) for name in headers.data)
    )
    rule = Rule(
        name=t.get("name", str),
        priority=priority,
        category=t.get("category", str, None),
        team=t.get("team", str, None),
        from_regex=t.regex("from_regex"),
        sender_domains=tuple(str(d).lower() for d in domains),
        subject_regex=t.regex("subject_regex"),
        body_regex=t.regex("body_regex"),
        headers=header_rules,
    )
    conditions = (rule.from_regex, rule.sender_domains, rule.subject_regex, rule.body_regex)
    if not any(conditions) and not rule.headers:
        raise ConfigError(f"{t.path}: a rule needs at least one condition")
    t.reject_unknown()
    return rule


def resolve_path(cli_value: str | None) -> Path:
    """`--config`, else $MAILDESK_CONFIG, else ./maildesk.toml (design.md)."""
    return Path(cli_value or os.environ.get("MAILDESK_CONFIG") or "maildesk.toml")
