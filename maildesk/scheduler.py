"""The daemon: interval jobs (a poll per mailbox, drain, SLA, survey and held-notice
sweeps), IDLE, web.

Deadlines live in the database, so the jobs are plain interval sweeps that a
restart simply starts again. IDLE only makes the poll job run now instead of
at its next interval; polling alone is always correct.

Two poll instances may exist, one running and one waiting on `_polling`: a
wake-up that comes during a poll (which may have listed the UIDs already) then
polls again afterwards instead of being skipped until the next interval. The
drain job works the same way, so mail queued during a drain (an ack, an
escalation) goes out at once, not a drain_interval later.
"""

import asyncio
import faulthandler
import logging
import signal
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.orm import sessionmaker

from maildesk.app import App
from maildesk.config import MailboxConfig
from maildesk.desk import notice_cap
from maildesk.desk.context import Desk
from maildesk.desk.sla import digest, sweep
from maildesk.desk.survey import sweep as survey_sweep
from maildesk.errors import ConfigError, MaildeskError, TemporaryFailure
from maildesk.intake import poller
from maildesk.store.db import unavailable_is_temporary
from maildesk.transport import outbox
from maildesk.transport.inbox import Inbox
from maildesk.transport.web import WebServer

log = logging.getLogger(__name__)
# Job start/finish lines would drown the log; "skipped: maximum number of running
# instances" is expected when IDLE wakes a poll while another one already waits.
logging.getLogger("apscheduler").setLevel(logging.WARNING)
logging.getLogger("apscheduler.scheduler").setLevel(logging.ERROR)
MAX_BACKOFF = 300.0
DIGEST_INTERVAL = 300.0  # seconds between looks at whether the digest hour has come
HELD_INTERVAL = 60.0  # seconds between looks for a sender's hour of held notices ended
SIGNAL_CHECK = 0.5  # seconds between the main thread's looks for a signal


class Daemon:
    """Runs the jobs until SIGTERM/SIGINT; stops after the message in hand."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.stop = threading.Event()
        self.scheduler = BackgroundScheduler(timezone=UTC)
        # Held while a job reschedules another. APScheduler's shutdown(wait=True)
        # holds its job-store lock while it waits for running jobs, so a job that
        # then asked for a job would wait for ever; `shutdown` takes this first.
        self._rescheduling = threading.Lock()
        self._draining = threading.Lock()
        self.intakes = [MailboxIntake(self, mailbox) for mailbox in app.config.mailboxes]
        self.web = WebServer(app) if app.config.web.listen else None

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

    def start(self) -> None:
        config = self.app.config
        for intake in self.intakes:
            self._every(intake.job_id, intake.poll, intake.mailbox.imap.poll_interval, 2)
        if config.smtp is not None:
            # As the poll: one running, one waiting on _draining.
            self._every("drain", self.drain, config.outbox.drain_interval, 2)
        self._every("sla", self.sweep_sla, config.sla.sweep_interval)
        self._every("survey", self.sweep_surveys, config.survey.sweep_interval)
        self._every("held", self.fold_held_notices, HELD_INTERVAL)
        if config.sla.digest:
            self._every("digest", self.send_digests, DIGEST_INTERVAL)
        self.scheduler.start()
        if self.web is not None:
            self.web.start()
        for intake in self.intakes:
            if intake.mailbox.imap.idle:
                name = f"idle:{intake.mailbox.name}"
                threading.Thread(target=intake.watch_idle, name=name, daemon=True).start()

    def _every(
        self, job_id: str, job: Callable[[], None], seconds: float, instances: int = 1
    ) -> None:
        """An interval job that runs first at start; missed runs coalesce into one."""
        self.scheduler.add_job(
            job,
            "interval",
            id=job_id,
            seconds=seconds,
            next_run_time=datetime.now(UTC),
            max_instances=instances,
            coalesce=True,
        )

    def shutdown(self) -> None:
        """Finish the message in hand, then stop every job."""
        log.info("stopping after the message in hand")
        self.stop.set()
        with self._rescheduling:  # from here on no job touches the scheduler
            pass
        self.scheduler.shutdown(wait=True)
        if self.web is not None:
            self.web.stop()

    def drain(self) -> None:
        """Send what is due, after any drain that is running (mail queued meanwhile goes now)."""
        with self._draining:
            if not self.stop.is_set():
                self._drain_now()

    def _drain_now(self) -> None:
        try:
            result = asyncio.run(outbox.drain(self.app))
        except MaildeskError as exc:
            log.error("outbox drain failed: %s", exc)
            return
        if result.sent or result.deferred or result.failed:
            log.info("outbox: %s", result)

    def sweep_sla(self) -> None:
        """Fire the ladder levels and breaches that are due."""
        self._sweep("SLA sweep", sweep.sweep)

    def sweep_surveys(self) -> None:
        """Send the surveys that are due; close the tickets whose survey window ended."""
        self._sweep("survey sweep", survey_sweep.sweep)

    def fold_held_notices(self) -> None:
        """One notice per sender whose hour of notices past the cap has ended."""
        self._sweep("held notices (senders told of)", notice_cap.fold)

    def send_digests(self) -> None:
        """Each agent's daily SLA digest, once the hour has come."""
        self._sweep("SLA digest (mails queued)", digest.send_digests)

    def _sweep(self, name: str, work: Callable[[sessionmaker, Desk, datetime], object]) -> None:
        """One sweep over deadlines kept as data; the mail it queued goes out at once."""
        try:
            with unavailable_is_temporary():
                result = work(self.app.sessions, self.app.desk(), self.app.clock())
        except MaildeskError as exc:
            log.error("%s failed: %s", name, exc)
            return
        if result:
            log.info("%s: %s", name, result)
            self.run_soon("drain")

    def run_soon(self, job_id: str, delay: float = 0.0) -> None:
        with self._rescheduling:
            if self.stop.is_set():
                return
            job = self.scheduler.get_job(job_id)
            if job is not None:
                when = datetime.now(UTC).timestamp() + delay
                job.modify(next_run_time=datetime.fromtimestamp(when, UTC))


class MailboxIntake:
    """One mailbox's poll job and IDLE watcher, with a backoff of its own.

    Each mailbox is its own job, so one that is down (and backing off) holds
    up none of the others.
    """

    def __init__(self, daemon: Daemon, mailbox: MailboxConfig) -> None:
        self.daemon = daemon
        self.mailbox = mailbox
        self.job_id = f"poll:{mailbox.name}"
        self.failures = 0
        self._polling = threading.Lock()

    def poll(self) -> None:
        """One poll cycle, after any that is running (a second instance waits here)."""
        with self._polling:
            if not self.daemon.stop.is_set():
                self._poll_now()

    def _poll_now(self) -> None:
        name = self.mailbox.name
        try:
            result = poller.poll_mailbox(self.daemon.app, self.mailbox, self.daemon.stop)
        except TemporaryFailure as exc:
            self.failures += 1
            delay = min(self.mailbox.imap.poll_interval * 2**self.failures, MAX_BACKOFF)
            log.warning("poll of %s failed (%s); next try in %.0f s", name, exc, delay)
            self.daemon.run_soon(self.job_id, delay)
            return
        except ConfigError as exc:
            # A refused certificate or login: trying every poll would only hammer the
            # server. Slowly, not never, so a fix on the server's side needs no restart.
            log.error("poll of %s refused: %s; next try in %.0f s", name, exc, MAX_BACKOFF)
            self.daemon.run_soon(self.job_id, MAX_BACKOFF)
            return
        self.failures = 0
        if result.handled:
            log.info("poll of %s: %s", self.mailbox.name, result.outcomes)
            self.daemon.run_soon("drain")

    def watch_idle(self) -> None:
        """Hold an IDLE connection; wake the poll job whenever the server says anything.

        Each (re)connect wakes it too: mail that came while the watcher was not
        idling (lost connection, start-up) announced itself to nobody.
        """
        imap, stop = self.mailbox.imap, self.daemon.stop
        delay = 1.0
        while not stop.is_set():
            try:
                with Inbox(imap) as inbox:
                    if not inbox.supports_idle():
                        log.info("server has no IDLE; polling every %s s", imap.poll_interval)
                        return
                    delay = 1.0
                    log.info("watching %s with IDLE", imap.folder)
                    self.daemon.run_soon(self.job_id)
                    while not stop.is_set():
                        if inbox.wait_for_news(timeout=min(imap.poll_interval, 300)):
                            self.daemon.run_soon(self.job_id)
            except (TemporaryFailure, OSError) as exc:
                if stop.is_set():
                    return
                log.warning("IDLE connection lost (%s); reconnecting in %.0f s", exc, delay)
                stop.wait(delay)
                delay = min(delay * 2, MAX_BACKOFF)
            except ConfigError as exc:  # the poll job logs it as an error; retried as slowly
                log.warning("IDLE refused (%s); trying again in %.0f s", exc, MAX_BACKOFF)
                stop.wait(MAX_BACKOFF)
