"""The daemon's loop: its jobs on one scheduler, the IDLE watchers, the web listeners,
and the signals that stop it.

Deadlines live in the database, so the jobs are plain interval sweeps that a
restart simply starts again; each job is a module of this package.
"""

import faulthandler
import functools
import logging
import signal
import threading
import time
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler

from maildesk.app import App, start_up
from maildesk.config.cautions import cautions
from maildesk.daemon import (
    digest_job,
    held_job,
    kb_job,
    listeners,
    outbox_job,
    retention_job,
    sla_job,
    survey_job,
    threads,
    watchers,
)
from maildesk.daemon.job import Job, timed
from maildesk.daemon.poll_job import MailboxIntake

log = logging.getLogger(__name__)
SIGNAL_CHECK = 0.5  # seconds between the main thread's looks for a signal


class Daemon:
    """Runs the jobs until SIGTERM/SIGINT; stops after the message in hand."""

    def __init__(self, app: App) -> None:
        start_up()
        self.app = app
        self.stop = threading.Event()
        self.scheduler = BackgroundScheduler(timezone=UTC)
        # Held while a job reschedules another. APScheduler's shutdown(wait=True)
        # holds its job-store lock while it waits for running jobs, so a job that
        # then asked for a job would wait for ever; `shutdown` takes this first.
        self._rescheduling = threading.Lock()
        self.intakes = [MailboxIntake(self, mailbox) for mailbox in app.config.mailboxes]
        self.listeners = listeners.servers(app)
        self.threads: dict[str, threading.Thread] = {}  # by name, watched by threads.py

    def run(self) -> None:
        """Run until SIGTERM or SIGINT; SIGUSR1 writes every thread's stack to stderr.

        The kernel may hand a signal to any thread, and then a main thread blocked
        in Event.wait() never runs the Python handler: so the main thread naps and
        looks. The handler only notes the signal; setting an Event from a handler
        can deadlock on the Event's own lock.
        """
        signalled: list[int] = []
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda signum, _frame: signalled.append(signum))
        faulthandler.register(signal.SIGUSR1, all_threads=True)  # "where is it stuck?"
        self.start()
        log.info("maildesk running; SIGTERM or Ctrl-C stops it")
        while not signalled:
            time.sleep(SIGNAL_CHECK)
        self.shutdown()

    def jobs(self) -> list[Job]:
        """A poll per mailbox, the drain (with SMTP), the sweeps, the digest (if on), the
        article files (with `[kb] dir`), the retention sweep (with `[retention]`); each
        run timed for the metrics."""
        config = self.app.config
        jobs = [intake.job() for intake in self.intakes]
        if config.smtp is not None:
            jobs.append(outbox_job.job(self))
        jobs += [sla_job.job(self), survey_job.job(self), held_job.job(self)]
        if config.sla.digest:
            jobs.append(digest_job.job(self))
        optional = [kb_job.job(self), retention_job.job(self)]
        jobs += [job for job in optional if job is not None]
        return [timed(job, self.app.meter) for job in jobs]

    def start(self) -> None:
        for caution in cautions(self.app.config):
            log.warning("%s", caution)
        for job in self.jobs():
            self.scheduler.add_job(
                job.run,
                "interval",
                id=job.id,
                seconds=job.seconds,
                next_run_time=datetime.now(UTC),
                max_instances=job.instances,
                coalesce=True,
            )
        self.scheduler.start()
        for server in self.listeners:
            self.threads[server.name] = threads.start(server.name, server.serve, self.stop)
            server.tried.wait(10)
        for intake in self.intakes:
            if intake.mailbox.imap.idle:
                connected = functools.partial(self.app.meter.idle_connected, intake.mailbox.name)
                watch = functools.partial(
                    watchers.watch,
                    self.stop,
                    intake.mailbox,
                    intake.wake,
                    intake.refusals,
                    connected,
                )
                name = f"IDLE watcher of {intake.mailbox.name}"
                self.threads[name] = threads.start(name, watch, self.stop)

    def shutdown(self) -> None:
        """Finish the message in hand, then stop every job."""
        log.info("stopping after the message in hand")
        self.stop.set()
        with self._rescheduling:  # from here on no job touches the scheduler
            pass
        self.scheduler.shutdown(wait=True)
        for server in self.listeners:
            server.stop()
            self.threads[server.name].join(10)

    def run_soon(self, job_id: str, delay: float = 0.0) -> None:
        """Move job `job_id`'s next run to `delay` seconds from now (unless stopping)."""
        with self._rescheduling:
            if self.stop.is_set():
                return
            job = self.scheduler.get_job(job_id)
            if job is not None:
                when = datetime.now(UTC).timestamp() + delay
                job.modify(next_run_time=datetime.fromtimestamp(when, UTC))
