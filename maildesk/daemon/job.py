"""What the daemon's jobs share: the interval job itself, what a job may ask of the
daemon, and the one way a sweep over deadlines kept as data runs."""

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import sessionmaker

from maildesk.app import App
from maildesk.desk.context import Desk
from maildesk.errors import MaildeskError
from maildesk.meter import Meter
from maildesk.store.db import unavailable_is_temporary

log = logging.getLogger(__name__)


class Host(Protocol):
    """The daemon as its jobs see it."""

    app: App
    stop: threading.Event

    def run_soon(self, job_id: str, delay: float = 0.0) -> None: ...


@dataclass(frozen=True)
class Job:
    """An interval job that runs first at start; missed runs coalesce into one.

    `instances` 2 for a job that others wake (poll, drain): one running, one
    waiting on the job's lock, so a wake-up during a run runs it again after.
    """

    id: str
    run: Callable[[], None]
    seconds: float
    instances: int = 1


def timed(job: Job, meter: Meter) -> Job:
    """The job, each run observed as maildesk_job_duration_seconds{job="<id>"}."""

    def run() -> None:
        with meter.timing(job.id):
            job.run()

    return replace(job, run=run)


Work = Callable[[sessionmaker, Desk, datetime], object]


def sweep(host: Host, job_id: str, name: str, work: Work, seconds: float) -> Job:
    """A job of one sweep over deadlines kept as data; the mail it queued goes out at once."""

    def run() -> None:
        app = host.app
        try:
            with unavailable_is_temporary():
                result = work(app.sessions, app.desk(), app.clock())
        except MaildeskError as exc:
            log.error("%s failed: %s", name, exc)
            return
        if result:
            log.info("%s: %s", name, result)
            host.run_soon("drain")

    return Job(job_id, run, seconds)
