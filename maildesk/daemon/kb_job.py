"""The article files' job: `[kb] dir` loaded at start and whenever a file changes there.

A file that cannot be read is logged once (until the folder changes again)
and nothing of that load is stored; the articles already loaded stay.
"""

import logging

from maildesk.daemon.job import Host, Job
from maildesk.errors import MaildeskError
from maildesk.kb import directory
from maildesk.store import db
from maildesk.store.db import unavailable_is_temporary

INTERVAL = 60.0  # seconds between looks at the folder
log = logging.getLogger(__name__)


def job(host: Host) -> Job | None:
    """The job, when `[kb] dir` is set."""
    folder = host.app.config.kb.dir
    if folder is None:
        return None
    seen: list[tuple[tuple[str, int, int], ...]] = []  # the folder as last loaded

    def run() -> None:
        now_state = directory.state(folder)
        if seen and seen[-1] == now_state:
            return
        app = host.app
        try:
            with unavailable_is_temporary(), db.transaction(app.sessions, write=True) as session:
                loaded = directory.load(session, folder, app.clock())
        except MaildeskError as exc:
            log.error("[kb] dir %s not loaded: %s", folder, exc)
        else:
            log.info("[kb] dir %s: %s", folder, loaded)
        seen[:] = [now_state]

    return Job("kb", run, INTERVAL)
