"""The retention job: once a day (and at start), the bytes `[retention]` says are due go."""

from maildesk.daemon.job import Host, Job, sweep
from maildesk.desk import retention

INTERVAL = 24 * 3600.0  # the periods are days; a run finds nothing twice


def job(host: Host) -> Job | None:
    """The job, when `[retention]` names a period."""
    if not host.app.config.retention.enabled:
        return None
    return sweep(host, "retention", "retention sweep", retention.sweep, INTERVAL)
