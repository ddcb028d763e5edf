"""A mailbox's poll job, with a backoff of its own: one mailbox that is down (and
backing off) holds up none of the others.

Two instances may exist, one running and one waiting on the lock: a wake-up
that comes during a poll (which may have listed the UIDs already) then polls
again afterwards instead of being skipped until the next interval.
"""

import logging
import threading

from maildesk.config import MailboxConfig
from maildesk.daemon.backoff import Backoff, Refusals
from maildesk.daemon.job import Host, Job
from maildesk.errors import ConfigError, TemporaryFailure
from maildesk.intake import poller

log = logging.getLogger(__name__)


class MailboxIntake:
    """One mailbox's poll job; its IDLE watcher (watchers.py) wakes it."""

    def __init__(self, host: Host, mailbox: MailboxConfig) -> None:
        self.host = host
        self.mailbox = mailbox
        self.job_id = f"poll:{mailbox.name}"
        self.backoff = Backoff(2 * mailbox.imap.poll_interval)
        self.refusals = Refusals()  # shared with the mailbox's IDLE watcher
        self._polling = threading.Lock()

    def job(self) -> Job:
        return Job(self.job_id, self.poll, self.mailbox.imap.poll_interval, instances=2)

    def wake(self) -> None:
        """Poll now instead of at the next interval (IDLE news, a reconnect)."""
        self.host.run_soon(self.job_id)

    def poll(self) -> None:
        """One poll cycle, after any that is running (a second instance waits here)."""
        with self._polling:
            if not self.host.stop.is_set():
                self._poll_now()

    def _poll_now(self) -> None:
        name = self.mailbox.name
        left = self.refusals.wait()
        if left > 0:  # woken before a refusal's wait is over
            self.host.run_soon(self.job_id, left)
            return
        try:
            result = poller.poll_mailbox(
                self.host.app, self.mailbox, self.host.stop, self._drain_soon
            )
        except TemporaryFailure as exc:
            delay = self.backoff.failed()
            log.warning("poll of %s failed (%s); next try in %.0f s", name, exc, delay)
            self.host.run_soon(self.job_id, delay)
            return
        except ConfigError as exc:
            # A refused certificate or login: trying every poll would hammer the server and
            # lock the account. Slowly, not never, so a fix on the server's side needs no
            # restart.
            delay = self.refusals.refused()
            log.error("poll of %s refused: %s; next try in %.0f s", name, exc, delay)
            self.host.run_soon(self.job_id, delay)
            return
        self.backoff.reset()
        self.refusals.accepted()
        if result.handled:
            log.info("poll of %s: %s", name, result.outcomes)

    def _drain_soon(self) -> None:
        """After each round's commit: what it queued goes out now, not after the poll."""
        self.host.run_soon("drain")
