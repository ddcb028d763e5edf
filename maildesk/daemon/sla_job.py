"""The SLA job: fire the ladder levels and breaches that are due."""

from maildesk.daemon.job import Host, Job, sweep
from maildesk.desk.sla import sweep as sla_sweep


def job(host: Host) -> Job:
    return sweep(host, "sla", "SLA sweep", sla_sweep.sweep, host.app.config.sla.sweep_interval)
