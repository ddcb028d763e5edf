"""The daemon's web listeners: the survey page on `[web] listen`, and the monitor
(`/metrics`, `/healthz`, `/readyz`) beside it, or on `[metrics] listen` alone."""

from maildesk.app import App
from maildesk.transport.web import WebServer
from maildesk.views.health import Health


def servers(app: App) -> list[WebServer]:
    """One listener per address configured; none when neither key is set."""
    page, monitor_at = app.config.web.listen, app.config.metrics.listen
    monitor = Health(app) if page or monitor_at else None
    if monitor_at is None or monitor_at == page:
        return [WebServer(app, page, survey=True, monitor=monitor)] if page else []
    found = [WebServer(app, monitor_at, survey=False, monitor=monitor)]
    return found + ([WebServer(app, page, survey=True)] if page else [])
