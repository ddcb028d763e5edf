"""The daemon's own threads (each mailbox's IDLE watcher, the web page): one that dies
of an error is logged with its traceback and started again, so a bug met once, or
a port taken for a while, costs that thread a pause and never the daemon a part."""

import logging
import threading
import time
from collections.abc import Callable

from maildesk.daemon.backoff import Backoff

log = logging.getLogger(__name__)
HEALTHY = 60.0  # a thread that ran this long before dying starts again at the first delay


def start(name: str, target: Callable[[], None], stop: threading.Event) -> threading.Thread:
    """Run `target` in a daemon thread until it returns or `stop` is set; restart it after
    an exception, waiting 1 s, 2 s, 4 s ... (at most daemon.backoff.MAX_BACKOFF)."""

    def supervise() -> None:
        backoff = Backoff(1.0)
        while not stop.is_set():
            began = time.monotonic()
            try:
                target()
                return
            except Exception:  # noqa: BLE001 - the one place a thread's death is caught
                if time.monotonic() - began > HEALTHY:
                    backoff.reset()
                delay = backoff.failed()
                log.exception("%s died; starting it again in %.0f s", name, delay)
                stop.wait(delay)

    thread = threading.Thread(target=supervise, name=name, daemon=True)
    thread.start()
    return thread
