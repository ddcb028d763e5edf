"""`[metrics]`: where `/metrics`, `/healthz` and `/readyz` are served.

Without `listen` they are served on `[web] listen` (beside the survey page),
and not at all when neither is set; with it, on a listener of their own (a
port the firewall keeps to the monitoring network).
"""

from dataclasses import dataclass

from maildesk.config.toml_table import Table


@dataclass(frozen=True)
class MetricsConfig:
    listen: str | None = None  # "127.0.0.1:9108"; None: on [web] listen


def metrics(t: Table | None) -> MetricsConfig:
    t = t or Table({}, "metrics")
    found = MetricsConfig(listen=t.listen("listen"))
    t.reject_unknown()
    return found
