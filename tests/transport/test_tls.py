"""TLS is verified on every connection: Dovecot (`ssl = required`) and aiosmtpd over TLS,
with trustme certificates for 127.0.0.1 from a CA no system trusts.

A refused certificate names the host and the reason, and nothing is fetched,
logged in to or sent; with `ca_file` of that CA the same servers work.
"""

import asyncio
import logging
from dataclasses import replace

import pytest
from sqlalchemy import select

from maildesk.daemon.backoff import MAX_BACKOFF
from maildesk.daemon.loop import Daemon
from maildesk.errors import ConfigError
from maildesk.intake import pipeline, poller
from maildesk.store import db
from maildesk.store.tables import OutboxMail, OutboxStatus
from maildesk.transport import outbox
from maildesk.transport.inbox import Inbox
from maildesk.views import records
from tests.conftest import maildesk_in_process, make_mail
from tests.support import wait_until
from tests.tls_servers import imap_toml, smtp_toml
from tests.transport.test_idle import wait_for_news_while

UNKNOWN_CA = "unable to get local issuer certificate"
ONE_DATABASE = "TLS is settled before any database work"


def stored_messages(app) -> int:
    with db.transaction(app.sessions) as session:
        return records.stats(session)["messages"]


@pytest.mark.one_database(ONE_DATABASE)
@pytest.mark.parametrize("database_kind", ["sqlite"])
@pytest.mark.parametrize("security", ["ssl", "starttls"])
@pytest.mark.parametrize(
    ("host", "trusted", "reason"),
    [
        ("127.0.0.1", False, f"{UNKNOWN_CA} (set imap.ca_file for a private CA)"),
        ("localhost", True, "Hostname mismatch, certificate is not valid for 'localhost'."),
    ],
    ids=["unknown-ca", "wrong-name"],
)
def test_imap_refuses_a_certificate_that_does_not_verify(
    security, host, trusted, reason, tls_dovecot, tls_mailbox, ca_file, make_app
):
    tls_mailbox.deliver(make_mail())
    port = tls_dovecot.ports[security]
    trust = ca_file if trusted else None
    app = make_app(extra=imap_toml(tls_mailbox, port, security, host, trust))

    with pytest.raises(ConfigError) as refused:
        poller.poll_once(app)

    assert str(refused.value) == f"IMAP {host}:{port}: certificate verify failed: {reason}"
    assert tls_mailbox.count("INBOX") == 1, "nothing fetched"
    assert tls_mailbox.count("Processed") == 0, "never logged in: the folder was not made"
    assert stored_messages(app) == 0


@pytest.mark.one_database(ONE_DATABASE)
@pytest.mark.parametrize("database_kind", ["sqlite"])
@pytest.mark.parametrize("security", ["ssl", "starttls"])
def test_imap_with_the_private_ca_polls_and_fetches(
    security, tls_dovecot, tls_mailbox, ca_file, make_app
):
    tls_mailbox.deliver(make_mail(subject="one"), make_mail(subject="two"))
    port = tls_dovecot.ports[security]
    app = make_app(extra=imap_toml(tls_mailbox, port, security, ca_file=ca_file))

    assert poller.poll_once(app).handled == 2

    assert tls_mailbox.count("INBOX") == 0 and tls_mailbox.count("Processed") == 2
    assert stored_messages(app) == 2


@pytest.mark.one_database(ONE_DATABASE)
@pytest.mark.parametrize("database_kind", ["sqlite"])
@pytest.mark.parametrize("security", ["ssl", "starttls"])
def test_idle_runs_on_the_verified_connection(
    security, tls_dovecot, tls_mailbox, ca_file, make_app
):
    """The IDLE watcher's connection is an Inbox too; its reads go through TLS records."""
    port = tls_dovecot.ports[security]
    app = make_app(extra=imap_toml(tls_mailbox, port, security, ca_file=ca_file))
    with Inbox(app.config.mailboxes[0].imap) as inbox:
        for n in range(2):
            mail = make_mail(subject=f"round {n}")
            assert wait_for_news_while(inbox, lambda m=mail: tls_mailbox.deliver(m))
        assert len(inbox.uids()) == 2


@pytest.mark.one_database(ONE_DATABASE)
@pytest.mark.parametrize("database_kind", ["sqlite"])
def test_a_ca_file_that_holds_no_certificate_names_its_key(
    tls_dovecot, tls_mailbox, tmp_path, make_app
):
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    app = make_app(extra=imap_toml(tls_mailbox, tls_dovecot.ports["ssl"], "ssl", ca_file=junk))
    with pytest.raises(ConfigError, match=f"^imap.ca_file: cannot load '{junk}'"):
        poller.poll_once(app)


@pytest.mark.one_database(ONE_DATABASE)
@pytest.mark.parametrize("database_kind", ["sqlite"])
def test_poll_once_exits_2_with_the_reason(tls_dovecot, tls_mailbox, tmp_path, make_app):
    port = tls_dovecot.ports["ssl"]
    make_app(extra=imap_toml(tls_mailbox, port, "ssl"))
    result = maildesk_in_process("poll", "--once", config=tmp_path / "maildesk.toml")
    assert result.returncode == 2, result.stderr
    assert (
        f"maildesk: IMAP 127.0.0.1:{port}: certificate verify failed: {UNKNOWN_CA}"
        " (set imap.ca_file for a private CA)"
    ) in result.stderr


@pytest.mark.one_database(ONE_DATABASE)
@pytest.mark.parametrize("database_kind", ["sqlite"])
def test_the_daemon_reports_a_refusal_and_retries_only_slowly(
    tls_dovecot, tls_mailbox, make_app, caplog
):
    toml = imap_toml(tls_mailbox, tls_dovecot.ports["ssl"], "ssl").replace(
        "idle = false", "idle = true\npoll_interval = 0.5"
    )
    daemon = Daemon(make_app(extra=toml))
    (intake,) = daemon.intakes
    daemon.start()
    try:
        wait_until(lambda: "IDLE refused" in caplog.text, timeout=30)
        wait_until(lambda: "poll of default refused" in caplog.text, timeout=30)
        job = daemon.scheduler.get_job(intake.job_id)
        poll_at = job.next_run_time.timestamp()
    finally:
        daemon.shutdown()
    # Two at most: a poll that began while the first handshake was slow.
    refusals = [r for r in caplog.records if "poll of default refused" in r.getMessage()]
    assert 1 <= len(refusals) <= 2
    assert all(r.levelno == logging.ERROR and UNKNOWN_CA in r.getMessage() for r in refusals)
    assert poll_at - refusals[-1].created > MAX_BACKOFF - 5, "not again at the next 0.5 s poll"


@pytest.mark.one_database(ONE_DATABASE)
@pytest.mark.parametrize("database_kind", ["sqlite"])
def test_smtp_refusal_keeps_the_mail_and_the_ca_file_sends_it(tls_smtp, ca_file, make_app, clock):
    sink, security = tls_smtp
    app = make_app(extra=smtp_toml(sink.port, security))
    pipeline.process(app, make_mail().as_bytes(), "test")  # queues the acknowledgement

    with pytest.raises(ConfigError) as refused:
        asyncio.run(outbox.drain(app))

    message = (
        f"SMTP 127.0.0.1:{sink.port}: certificate verify failed: {UNKNOWN_CA}"
        " (set smtp.ca_file for a private CA)"
    )
    assert str(refused.value) == message
    assert sink.received == []
    with db.transaction(app.sessions) as session:
        row = session.scalar(select(OutboxMail))
        assert (row.status, row.attempts, row.last_error) == (OutboxStatus.PENDING, 0, message)

    smtp = app.config.smtp
    trusted = replace(smtp.trust, ca_file=ca_file)
    app.config = replace(app.config, smtp=replace(smtp, trust=trusted))
    clock.advance(seconds=app.config.outbox.claim_seconds)  # the refused drain's claim ends
    assert asyncio.run(outbox.drain(app)).sent == 1
    assert len(sink.received) == 1
