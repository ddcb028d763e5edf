"""The daemon and refusals: a refused login is tried three times, then once per 15
minutes, by the poll alone (its IDLE watcher waits and comes back once a poll gets
in); a watcher or the web page that dies is logged and started again."""

import http.client
import logging
import socket
from dataclasses import replace

import pytest

from maildesk.app import App
from maildesk.daemon.backoff import MAX_BACKOFF, REFUSED_SLOW, Refusals
from maildesk.daemon.loop import Daemon
from maildesk.store import db
from maildesk.transport import idle
from maildesk.views import records
from tests.conftest import PASSWORD, free_port, make_mail
from tests.support import wait_until

ONE_DATABASE = "the daemon's threads and schedule; the database is the store's tests"
WAIT = 30.0


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_refusals_three_tries_then_one_per_15_minutes():
    clock = Ticks()
    refusals = Refusals(clock)
    assert refusals.wait() == 0.0
    assert [refusals.refused() for _ in range(5)] == [
        MAX_BACKOFF,
        MAX_BACKOFF,
        REFUSED_SLOW,
        REFUSED_SLOW,
        REFUSED_SLOW,
    ]
    assert REFUSED_SLOW == 15 * 60
    clock.now += 100
    assert refusals.wait() == REFUSED_SLOW - 100
    seen = refusals.acceptances
    refusals.accepted()
    assert refusals.wait() == 0.0 and refusals.acceptances == seen + 1
    assert refusals.refused() == MAX_BACKOFF, "a new run of refusals starts fast again"


def with_idle(app: App, poll_interval: float) -> App:
    (mailbox,) = app.config.mailboxes
    imap = replace(mailbox.imap, idle=True, poll_interval=poll_interval)
    app.config = replace(app.config, mailboxes=(replace(mailbox, imap=imap),))
    return app


def stored(app: App) -> int:
    with db.transaction(app.sessions) as session:
        return records.stats(session)["messages"]


def logged(caplog, text: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if text in r.getMessage()]


@pytest.mark.one_database(ONE_DATABASE)
@pytest.mark.parametrize("database_kind", ["sqlite"])
def test_a_refused_login_slows_the_poll_and_the_watcher_waits_for_it(
    mailbox, make_app, monkeypatch, caplog
):
    caplog.set_level(logging.INFO)
    monkeypatch.setenv("MAILDESK_IMAP_PASSWORD", "not-" + PASSWORD)
    app = with_idle(make_app(mailbox), poll_interval=60)
    daemon = Daemon(app)
    (intake,) = daemon.intakes
    clock = Ticks()
    intake.refusals.clock = clock
    daemon.start()
    try:
        wait_until(lambda: logged(caplog, "IDLE refused"), WAIT)
        wait_until(lambda: logged(caplog, "poll of default refused"), WAIT)
        intake.poll()  # woken early: waits out the refusal, no login tried
        assert len(logged(caplog, "poll of default refused")) == 1
        for expected in (MAX_BACKOFF, REFUSED_SLOW, REFUSED_SLOW):
            clock.now += intake.refusals.wait()
            intake.poll()
            last = logged(caplog, "poll of default refused")[-1]
            assert f"next try in {expected:.0f} s" in last.getMessage()
            assert last.levelno == logging.ERROR and "Authentication failed" in last.getMessage()
            next_run = daemon.scheduler.get_job(intake.job_id).next_run_time.timestamp()
            assert next_run - last.created == pytest.approx(expected, abs=5)
        assert len(logged(caplog, "IDLE refused")) == 1, "the watcher tried once, then waited"

        monkeypatch.setenv("MAILDESK_IMAP_PASSWORD", PASSWORD)  # the operator fixes it
        clock.now += intake.refusals.wait()
        intake.poll()
        wait_until(lambda: logged(caplog, "watching INBOX with IDLE"), WAIT)
        mailbox.deliver(make_mail())
        wait_until(lambda: stored(app) == 1, WAIT)  # IDLE woke the poll, long before 60 s
    finally:
        daemon.shutdown()


@pytest.mark.one_database(ONE_DATABASE)
@pytest.mark.parametrize("database_kind", ["sqlite"])
def test_a_watcher_that_dies_is_logged_and_started_again(mailbox, make_app, monkeypatch, caplog):
    caplog.set_level(logging.INFO)
    calls = []
    real_wait = idle.wait

    def flaky(client, timeout):
        calls.append(timeout)
        if len(calls) == 1:
            raise RuntimeError("a bug met once")
        return real_wait(client, timeout)

    monkeypatch.setattr(idle, "wait", flaky)
    app = with_idle(make_app(mailbox), poll_interval=60)
    daemon = Daemon(app)
    daemon.start()
    try:
        wait_until(lambda: len(logged(caplog, "watching INBOX with IDLE")) == 2, WAIT)
        (died,) = logged(caplog, "IDLE watcher of default died; starting it again in 1 s")
        assert died.levelno == logging.ERROR and "a bug met once" in died.exc_text
        mailbox.deliver(make_mail())
        wait_until(lambda: stored(app) == 1, WAIT)
    finally:
        daemon.shutdown()


@pytest.mark.one_database(ONE_DATABASE)
@pytest.mark.parametrize("database_kind", ["sqlite"])
def test_the_web_page_that_cannot_listen_is_started_again(make_app, caplog):
    port = free_port()
    taken = socket.create_server(("127.0.0.1", port))
    app = make_app(extra=f'[web]\nlisten = "127.0.0.1:{port}"\n')
    daemon = Daemon(app)
    daemon.start()
    try:
        wait_until(lambda: logged(caplog, "survey page and monitor died; starting it again"), WAIT)
        taken.close()

        def answers() -> bool:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            try:
                connection.request("GET", "/survey/not-a-token")
                return connection.getresponse().status == 404
            except OSError:
                return False
            finally:
                connection.close()

        wait_until(answers, WAIT)
    finally:
        taken.close()
        daemon.shutdown()


@pytest.mark.one_database(ONE_DATABASE)
@pytest.mark.parametrize("database_kind", ["sqlite"])
def test_unverified_tls_is_warned_of_at_start(make_app, caplog):
    toml = f"""
[smtp]
host = "127.0.0.1"
port = {free_port()}
security = "starttls"
verify = false
from_address = "support@desk.example"
"""
    daemon = Daemon(make_app(extra=toml))
    daemon.start()
    daemon.shutdown()
    (warning,) = logged(caplog, "smtp.verify = false")
    assert warning.levelno == logging.WARNING
    assert "the certificate of 127.0.0.1 is not checked" in warning.getMessage()
