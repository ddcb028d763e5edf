"""The drain job: send what is due, after any drain that is running, so mail queued
during a drain (an ack, an escalation) goes out at once, not a drain_interval later."""

import asyncio
import logging
import threading

from maildesk.daemon.job import Host, Job
from maildesk.errors import MaildeskError
from maildesk.transport import outbox

log = logging.getLogger(__name__)


def job(host: Host) -> Job:
    draining = threading.Lock()

    def drain() -> None:
        with draining:  # a second instance waits here
            if not host.stop.is_set():
                _drain_now(host)

    return Job("drain", drain, host.app.config.outbox.drain_interval, instances=2)


def _drain_now(host: Host) -> None:
    try:
        result = asyncio.run(outbox.drain(host.app))
    except MaildeskError as exc:
        log.error("outbox drain failed: %s", exc)
        return
    if result.sent or result.deferred or result.failed:
        log.info("outbox: %s", result)
