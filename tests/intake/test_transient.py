"""A locked or lost database is not the mail's fault: it waits on the server, nothing is
quarantined, and the next cycle takes it. Real SQLite files and PostgreSQL, a real
lock held by another connection, Dovecot for IMAP.
"""

import pytest

from maildesk.errors import DatabaseUnavailable
from maildesk.intake import pipeline, poller
from tests.conftest import maildesk_cli, make_mail
from tests.support import cycle, show, stats, write_lock


def test_locked_database_leaves_the_mail_on_the_server_until_the_next_cycle(
    mailbox, smtp_sink, make_app, database_url
):
    app = make_app(mailbox, smtp_sink, busy_timeout=0.1)
    mailbox.deliver(make_mail(subject="sent during a lock"))
    with write_lock(database_url), pytest.raises(DatabaseUnavailable, match="lock"):
        poller.poll_once(app)
    assert mailbox.count("INBOX") == 1 and mailbox.count("Quarantine") == 0
    assert stats(app)["quarantined"] == 0 and stats(app)["tickets"] == 0

    cycle(app)

    assert show(app, 1)["subject"] == "sent during a lock"
    assert len(smtp_sink.received) == 1, "the acknowledgement goes out once"
    assert mailbox.count("INBOX") == 0 and mailbox.count("Processed") == 1


def test_import_during_a_lock_stores_nothing_and_can_run_again(make_app, database_url):
    app = make_app(busy_timeout=0.1)
    raw = make_mail(subject="imported during a lock").as_bytes()
    with write_lock(database_url), pytest.raises(DatabaseUnavailable):
        pipeline.process_batch(app, [pipeline.Pending(raw, "import:x")])
    assert stats(app)["quarantined"] == 0
    assert pipeline.process_batch(app, [pipeline.Pending(raw, "import:x")]) == [
        pipeline.Outcome.STORED
    ]


def test_poll_once_exits_75_while_the_database_stays_locked(
    mailbox, make_app, database_url, tmp_path
):
    make_app(mailbox, busy_timeout=0.1)
    mailbox.deliver(make_mail(subject="waits"))
    with write_lock(database_url):
        done = maildesk_cli("poll", "--once", config=tmp_path / "maildesk.toml")
    assert done.returncode == 75, done.stderr
    assert "database unavailable" in done.stderr and "lock" in done.stderr
    assert mailbox.count("INBOX") == 1 and mailbox.count("Quarantine") == 0
