"""A mailbox's IDLE watcher: a thread that holds an IDLE connection and wakes the
mailbox's poll job whenever the server says anything.

IDLE only makes the poll run now instead of at its next interval; polling alone
is always correct.
"""

import logging
import threading
from collections.abc import Callable

from maildesk.config import MailboxConfig
from maildesk.daemon.backoff import Backoff, Refusals
from maildesk.errors import ConfigError, TemporaryFailure
from maildesk.transport.inbox import Inbox

log = logging.getLogger(__name__)


def watch(
    stop: threading.Event,
    mailbox: MailboxConfig,
    wake: Callable[[], None],
    refusals: Refusals,
    connected: Callable[[bool], None] = lambda _held: None,
) -> None:
    """Hold an IDLE connection; wake the poll whenever the server says anything.

    Each (re)connect wakes it too: mail that came while the watcher was not
    idling (lost connection, start-up) announced itself to nobody. A refused
    login or certificate is not tried again here: the poll job tries, on its
    slow schedule (`refusals`), and the watcher follows once a poll got in.
    `connected` hears whether the IDLE connection is held (the metrics show it).
    """
    imap = mailbox.imap
    backoff = Backoff(1.0)
    while not stop.is_set():
        accepted = refusals.acceptances
        try:
            with Inbox(imap) as inbox:
                if not inbox.supports_idle():
                    log.info("server has no IDLE; polling every %s s", imap.poll_interval)
                    return
                backoff.reset()
                log.info("watching %s with IDLE", imap.folder)
                connected(True)
                try:
                    wake()
                    while not stop.is_set():
                        if inbox.wait_for_news(timeout=min(imap.poll_interval, 300)):
                            wake()
                finally:
                    connected(False)
        except (TemporaryFailure, OSError) as exc:
            if stop.is_set():
                return
            delay = backoff.failed()
            log.warning("IDLE connection lost (%s); reconnecting in %.0f s", exc, delay)
            stop.wait(delay)
        except ConfigError as exc:  # the poll job logs it as an error and owns the retries
            log.warning("IDLE refused (%s); back once a poll of %s gets in", exc, mailbox.name)
            refusals.wait_for_acceptance(accepted, stop)
