"""`[survey]` and `[web]`: the satisfaction survey after a resolution, and its link page.

Defaults follow the peers (anchors.md §3.6): the survey goes 24 h after the
resolution, at most once per customer in 30 days, and the ticket closes
when the 7-day window ends. The web page is off until `[web] listen` is set.
"""

from dataclasses import dataclass

from maildesk.config.toml_table import Table
from maildesk.errors import ConfigError


@dataclass(frozen=True)
class SurveyConfig:
    enabled: bool = True
    delay_hours: float = 24.0
    cooldown_days: float = 30.0
    window_days: float = 7.0  # after the resolution: then the ticket closes
    low_score: int = 2  # this or lower tells the team's leads
    close_notice: bool = False  # a status mail when the window closes the ticket
    sweep_interval: float = 60.0


@dataclass(frozen=True)
class WebConfig:
    """The survey's page; `public_url` is how customers reach `listen` (its links and form)."""

    listen: str | None = None  # "127.0.0.1:8025"
    public_url: str | None = None

    @property
    def host_port(self) -> tuple[str, int]:
        return host_port(self.listen or "")


def host_port(listen: str) -> tuple[str, int]:
    """The host and port of a `listen` value, checked at load (Table.listen)."""
    host, _, port = listen.rpartition(":")
    return host, int(port)


def survey(t: Table | None) -> SurveyConfig:
    t = t or Table({}, "survey")
    default = SurveyConfig()
    low = t.get("low_score", int, default.low_score)
    if not 1 <= low <= 5:
        raise ConfigError(f"{t.key('low_score')}: must be 1..5, got {low}")
    config = SurveyConfig(
        enabled=t.get("enabled", bool, default.enabled),
        delay_hours=t.get("delay_hours", float, default.delay_hours),
        cooldown_days=t.get("cooldown_days", float, default.cooldown_days),
        window_days=t.positive("window_days", default.window_days),
        low_score=low,
        close_notice=t.get("close_notice", bool, default.close_notice),
        sweep_interval=t.positive("sweep_interval", default.sweep_interval),
    )
    for key in ("delay_hours", "cooldown_days"):
        if getattr(config, key) < 0:
            raise ConfigError(f"{t.key(key)}: must be 0 or more")
    if config.delay_hours / 24 >= config.window_days:
        raise ConfigError(f"{t.key('delay_hours')}: must end before window_days")
    t.reject_unknown()
    return config


def web(t: Table | None) -> WebConfig:
    t = t or Table({}, "web")
    listen = t.listen("listen")
    public_url = t.get("public_url", str, None)
    if listen is not None and public_url is None:
        public_url = f"http://{listen}"
    if public_url is not None and not public_url.startswith(("http://", "https://")):
        raise ConfigError(f"{t.key('public_url')}: {public_url!r} is not an http(s) URL")
    t.reject_unknown()
    return WebConfig(listen, public_url.rstrip("/") if public_url else None)
