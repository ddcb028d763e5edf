"""Several `maildesk run` workers on one mailbox and one PostgreSQL database.

Real processes, Dovecot, aiosmtpd, the suite's PostgreSQL cluster: every mail
gets one ticket entry and one acknowledgement, however the workers interleave
and even when one of them is killed (SIGKILL) halfway (then the one mail it may
have had in flight at the SMTP server can go out a second time, unchanged). SQLite is left out on
purpose: it has one writer at a time, and several workers are what
PostgreSQL is for.
"""

import signal

import pytest

from maildesk.intake.poller import ROUND
from tests.conftest import config_text, maildesk_in_process, make_mail
from tests.daemon.test_process import start_daemon, stop
from tests.support import count, wait_until

# Six rounds of 50 (poller.ROUND) for three workers: each claims rounds while the others
# hold theirs, and the kill after a third of them lands mid-run with rounds left for the
# two that live.
MAILS = 6 * ROUND
WORKERS = 3


@pytest.mark.one_database("several workers are what PostgreSQL is for; SQLite has one writer")
@pytest.mark.parametrize("kill_one", [False, True], ids=["all-live", "one-killed"])
def test_three_workers_handle_each_mail_exactly_once(
    kill_one, tmp_path, mailbox, smtp_sink, pg_cluster
):
    url = pg_cluster.new_database()
    text = config_text(url, mailbox.server.port, mailbox.user, smtp_sink.port)
    text = text.replace(
        "max_attempts = 5", "max_attempts = 5\nclaim_seconds = 3\ndrain_interval = 0.3"
    )
    config = tmp_path / "maildesk.toml"
    config.write_text(text)
    assert maildesk_in_process("init", config=config).returncode == 0
    mails = [
        make_mail(sender=f"c{i}@customer.example", subject=f"mail {i}", body=f"body {i}")
        for i in range(MAILS)
    ]
    mailbox.deliver(*mails)

    workers = [start_daemon(config) for _ in range(WORKERS)]
    try:
        if kill_one:
            wait_until(lambda: count(url, "SELECT count(*) FROM receipts") >= MAILS // 3, 120)
            workers[0].send_signal(signal.SIGKILL)
            workers[0].wait(30)
            assert count(url, "SELECT count(*) FROM receipts") < MAILS, "killed halfway"
        wait_until(
            lambda: (
                count(url, "SELECT count(*) FROM receipts") == MAILS
                and count(url, "SELECT count(*) FROM outbox WHERE status <> 'sent'") == 0
                and len(smtp_sink.received) >= MAILS
            ),
            180,
        )
    finally:
        codes = [stop(w) if w.poll() is None else None for w in workers]
    assert all(code in (0, None) for code in codes), (tmp_path / "daemon.log").read_text()

    assert count(url, "SELECT count(*) FROM tickets") == MAILS
    assert count(url, "SELECT count(DISTINCT number) FROM tickets") == MAILS
    assert (
        count(url, "SELECT count(DISTINCT message_id) FROM messages WHERE direction = 'in'")
        == MAILS
    )
    assert count(url, "SELECT count(*) FROM messages WHERE direction = 'in'") == MAILS
    assert count(url, "SELECT count(*) FROM quarantine") == 0
    assert count(url, "SELECT count(*) FROM outbox WHERE kind = 'ack'") == MAILS
    copies: dict[str, set[str]] = {}
    for ack in smtp_sink.messages:
        copies.setdefault(ack["In-Reply-To"], set()).add(ack["Message-ID"])
    assert sorted(copies) == sorted(m["Message-ID"] for m in mails), "every mail acknowledged"
    assert all(len(ids) == 1 for ids in copies.values()), "one acknowledgement per mail"
    # SMTP has no two-phase commit: a worker killed between the server's 250 and its
    # own commit leaves that one mail to be sent again, by another worker, as the same
    # message (same Message-ID). Live workers never send a mail twice.
    sent_twice = len(smtp_sink.messages) - len(copies)
    assert sent_twice <= (1 if kill_one else 0)
    assert mailbox.count("INBOX") == 0 and mailbox.count("Processed") == MAILS
    assert mailbox.count("Quarantine") == 0
