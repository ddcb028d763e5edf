"""The drain job: send what is due, after any drain that is running, so mail queued
during a drain (an ack, an escalation) goes out at once, not a drain_interval later."""

import asyncio
import logging
import threading

from maildesk.daemon.backoff import Refusals
from maildesk.daemon.job import Host, Job
from maildesk.errors import ConfigError, MaildeskError
from maildesk.transport import outbox

log = logging.getLogger(__name__)


def job(host: Host) -> Job:
    draining = threading.Lock()
    refusals = Refusals()

    def drain() -> None:
        with draining:  # a second instance waits here
            if not host.stop.is_set() and refusals.wait() == 0:
                _drain_now(host, refusals)

    return Job("drain", drain, host.app.config.outbox.drain_interval, instances=2)


def _drain_now(host: Host, refusals: Refusals) -> None:
    """One drain; a refused login or certificate holds every drain until its wait is over
    (the poll's schedule: daemon/backoff.py), however often polls wake the drain."""
    try:
        result = asyncio.run(outbox.drain(host.app))
    except ConfigError as exc:
        delay = refusals.refused()
        log.error("outbox drain refused: %s; next try in %.0f s", exc, delay)
        return
    except MaildeskError as exc:
        log.error("outbox drain failed: %s", exc)
        return
    if result.sent:  # only a mail taken proves the login (a drain may connect to nobody)
        refusals.accepted()
    if result.sent or result.deferred or result.failed:
        log.info("outbox: %s", result)
