"""PostgreSQL restarted under load: two `maildesk run` workers lose every connection
at once, log it, and go on without a restart of their own; every mail gets one entry
and one acknowledgement.

The cluster is the test's own (initdb in a temporary folder), so the restart
disturbs no other test; Dovecot and aiosmtpd as everywhere.
"""

from collections.abc import Iterator

import pytest

from tests import postgres
from tests.conftest import config_text, free_port, make_mail
from tests.daemon.test_process import HANG, start_daemon, stop
from tests.support import assert_each_mail_once, count, wait_until

MAILS = 100  # half before the restart, half after
WORKERS = 2


@pytest.fixture
def own_cluster() -> Iterator[postgres.PostgresCluster]:
    """A cluster of this test's own: the suite's is shared, and must not restart."""
    try:
        cluster = postgres.start(free_port())
    except FileNotFoundError as missing:
        pytest.skip(f"{missing} not installed")
    yield cluster
    postgres.stop(cluster)


def test_workers_ride_out_a_postgres_restart(tmp_path, mailbox, smtp_sink, own_cluster):
    url = own_cluster.new_database()
    text = config_text(url, mailbox.server.port, mailbox.user, smtp_sink.port)
    text = text.replace(
        "max_attempts = 5", "max_attempts = 5\nclaim_seconds = 3\ndrain_interval = 0.3"
    )
    config = tmp_path / "maildesk.toml"
    config.write_text(text)
    mails = [
        make_mail(sender=f"c{i}@customer.example", subject=f"mail {i}", body=f"body {i}")
        for i in range(MAILS)
    ]
    mailbox.deliver(*mails[: MAILS // 2])

    def receipts() -> int:
        return count(url, "SELECT count(*) FROM receipts")

    workers = [start_daemon(config) for _ in range(WORKERS)]
    try:
        wait_until(lambda: receipts() >= MAILS // 4, HANG)
        postgres.restart(own_cluster)
        mailbox.deliver(*mails[MAILS // 2 :])
        wait_until(
            lambda: (
                receipts() == MAILS
                and count(url, "SELECT count(*) FROM outbox WHERE status <> 'sent'") == 0
                and len(smtp_sink.received) >= MAILS
            ),
            HANG,
        )
        assert all(w.poll() is None for w in workers), "no worker ended"
    finally:
        codes = [stop(w) for w in workers]
    log = (tmp_path / "daemon.log").read_text(errors="replace")
    assert codes == [0] * WORKERS, log
    assert "database unavailable" in log or "server closed the connection" in log, log

    assert_each_mail_once(url, mails, smtp_sink.messages)
    assert mailbox.count("INBOX") == 0 and mailbox.count("Processed") == MAILS
