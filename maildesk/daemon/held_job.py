"""The held-notice job: one notice per sender whose hour of notices past the cap has ended."""

from maildesk.daemon.job import Host, Job, sweep
from maildesk.desk import notice_cap

INTERVAL = 60.0  # seconds between looks for a sender's hour of held notices ended


def job(host: Host) -> Job:
    return sweep(host, "held", "held notices (senders told of)", notice_cap.fold, INTERVAL)
