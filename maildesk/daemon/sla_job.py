"""The SLA job: fire the ladder levels and breaches that are due, and count them."""

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from maildesk.daemon.job import Host, Job, sweep
from maildesk.desk.context import Desk
from maildesk.desk.sla import sweep as sla_sweep


def job(host: Host) -> Job:
    def work(sessions: sessionmaker[Session], desk: Desk, now: datetime) -> sla_sweep.SweepResult:
        result = sla_sweep.sweep(sessions, desk, now)
        host.app.meter.sla_swept(result.breached, result.levels)
        return result

    return sweep(host, "sla", "SLA sweep", work, host.app.config.sla.sweep_interval)
