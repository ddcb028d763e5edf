"""The digest job: each agent's daily SLA digest, once the hour has come."""

from maildesk.daemon.job import Host, Job, sweep
from maildesk.desk.sla import digest

INTERVAL = 300.0  # seconds between looks at whether the digest hour has come


def job(host: Host) -> Job:
    return sweep(host, "digest", "SLA digest (mails queued)", digest.send_digests, INTERVAL)
