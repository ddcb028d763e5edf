"""The monitor over real HTTP: /metrics after a poll and a drain (Dovecot in, aiosmtpd out),
/readyz as polls come and go late on the injected clock or the database is gone, and
`status --json` naming each mailbox's last successful poll."""

import functools
import json
import os
import re
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from maildesk import config as config_module
from maildesk.app import App
from maildesk.daemon import listeners, watchers
from maildesk.daemon.backoff import Refusals
from maildesk.daemon.turns import Turns
from maildesk.transport.web import WebServer
from tests.conftest import T0, config_text, free_port, maildesk_in_process, make_mail
from tests.desk.survey.test_web import request
from tests.support import metric_series


@pytest.fixture
def serve() -> Iterator[Callable[[WebServer], None]]:
    """Serve a listener in a thread of its own until the test ends."""
    running: list[tuple[WebServer, threading.Thread]] = []

    def start(server: WebServer) -> None:
        thread = threading.Thread(target=server.serve, daemon=True)
        thread.start()
        assert server.tried.wait(10)
        running.append((server, thread))

    yield start
    for server, thread in running:
        server.stop()
        thread.join(10)


def metrics(port: int) -> dict[str, float]:
    status, text = request(port, "GET", "/metrics")
    assert status == 200
    return metric_series(text)


def test_metrics_readiness_and_status_follow_the_polls_and_the_outbox(
    mailbox, smtp_sink, make_app, clock, serve, tmp_path
):
    page, monitor = free_port(), free_port()
    extra = (
        f'[web]\nlisten = "127.0.0.1:{page}"\n[metrics]\nlisten = "127.0.0.1:{monitor}"\n'
        "[intake]\nmax_message_bytes = 4000\n"
    )
    app = make_app(mailbox, smtp_sink, extra=extra)
    daemon = Turns(app)
    assert [s.name for s in daemon.listeners] == ["monitor", "survey page"]
    for server in daemon.listeners:
        serve(server)
    assert request(monitor, "GET", "/readyz") == (503, "mailbox default: no successful poll yet\n")

    mailbox.deliver(
        make_mail(subject="printer on fire"),
        make_mail(subject="Out of office", **{"Auto-Submitted": "auto-replied"}),
        make_mail(subject="huge", body="x" * 5000),
    )
    daemon.by_id["poll:default"].run()  # the drain it asks for waits: the mail is queued
    assert request(monitor, "GET", "/readyz") == (200, "ready\n")
    clock.advance(seconds=60)  # 40 poll intervals of 0.5 s with no poll
    status, why = request(monitor, "GET", "/readyz")
    assert (status, why) == (503, "mailbox default: last successful poll 60 s ago, over 1.5 s\n")
    queued = metrics(monitor)
    assert queued['maildesk_mails_in_total{class="human",mailbox="default"}'] == 1
    assert queued['maildesk_mails_in_total{class="auto_reply",mailbox="default"}'] == 1
    assert queued['maildesk_mails_quarantined_total{mailbox="default"}'] == 1
    assert queued["maildesk_quarantined_mails"] == 1
    assert queued['maildesk_outbox_mails{status="pending"}'] == 1, "the ack, queued"
    assert queued["maildesk_outbox_oldest_pending_seconds"] == 60
    assert queued['maildesk_mailbox_last_poll_timestamp_seconds{mailbox="default"}'] == (
        T0.timestamp()
    )
    assert queued['maildesk_mailbox_poll_late{mailbox="default"}'] == 1
    assert queued["maildesk_database_up"] == 1

    daemon.run_now("drain")
    sent = metrics(monitor)
    assert len(smtp_sink.received) == 1
    assert sent['maildesk_outbox_mails{status="sent"}'] == 1
    assert sent['maildesk_outbox_mails{status="pending"}'] == 0
    assert sent['maildesk_outbox_mails{status="failed"}'] == 0
    assert sent["maildesk_outbox_oldest_pending_seconds"] == 0
    assert sent['maildesk_job_duration_seconds_count{job="poll:default"}'] == 1
    assert sent['maildesk_job_duration_seconds_count{job="drain"}'] == 2, "ours, the poll's"
    assert sent['maildesk_tickets{status="open"}'] >= 1

    assert request(monitor, "GET", "/healthz") == (200, "ok\n")
    assert request(monitor, "GET", "/survey/anything")[0] == 404, "the page is not here"
    assert request(page, "GET", "/metrics")[0] == 404, "nor the monitor on the page's port"
    shown = maildesk_in_process("status", "--json", config=tmp_path / "maildesk.toml")
    assert shown.returncode == 0, shown.stderr
    (polled,) = json.loads(shown.stdout)["mailboxes"]
    assert (polled["name"], polled["last_poll_at"]) == ("default", T0.isoformat())
    assert json.loads(shown.stdout)["quarantined"] == 1


@pytest.mark.one_database("where the monitor is served; the database is incidental")
@pytest.mark.parametrize("database_kind", ["sqlite"])
def test_without_a_metrics_listener_the_monitor_is_on_the_web_listener(make_app, serve):
    port = free_port()
    app = make_app(extra=f'[web]\nlisten = "127.0.0.1:{port}"\n')
    (server,) = listeners.servers(app)
    assert server.name == "survey page and monitor"
    serve(server)
    assert request(port, "GET", "/healthz") == (200, "ok\n")
    assert request(port, "GET", "/readyz") == (200, "ready\n"), "no mailbox to wait for"
    assert metrics(port)["maildesk_database_up"] == 1


@pytest.mark.one_database("an IMAP connection's gauge; the database is incidental")
@pytest.mark.parametrize("database_kind", ["sqlite"])
def test_the_idle_gauge_is_1_while_the_watcher_holds_its_connection(mailbox, make_app):
    app = make_app(mailbox)
    stop, woken = threading.Event(), threading.Event()
    gauge = 'maildesk_idle_connected{mailbox="default"}'
    noted = functools.partial(app.meter.idle_connected, "default")
    args = (stop, app.config.mailboxes[0], woken.set, Refusals(), noted)
    watcher = threading.Thread(target=watchers.watch, args=args)
    watcher.start()
    try:
        assert woken.wait(30), "the watcher's connect wakes the poll"
        assert metric_series(app.meter.exposition()[0])[gauge] == 1
    finally:
        stop.set()
        watcher.join(30)
    assert metric_series(app.meter.exposition()[0])[gauge] == 0


def test_a_database_that_does_not_answer_is_not_ready_and_is_counted(tmp_path, serve):
    """A PostgreSQL server that is down (nothing listens on its port): alive, not ready."""
    port = free_port()
    url = f"postgresql://maildesk@127.0.0.1:{free_port()}/desk"
    text = config_text(url, None, None, None, f'[web]\nlisten = "127.0.0.1:{port}"\n')
    (tmp_path / "maildesk.toml").write_text(text)
    app = App.build(config_module.load(tmp_path / "maildesk.toml"))
    try:
        (server,) = listeners.servers(app)
        serve(server)
        status, why = request(port, "GET", "/readyz")
        assert status == 503 and why.startswith("database unreachable: ")
        assert request(port, "GET", "/healthz") == (200, "ok\n"), "alive all the same"
        found = metrics(port)
        assert found["maildesk_database_up"] == 0
        assert found['maildesk_database_errors_total{kind="transient"}'] >= 2
        assert "maildesk_outbox_mails" not in " ".join(found), "no figure it could not read"
    finally:
        app.close()


def healthcheck() -> list[str]:
    """The command of the Dockerfile's HEALTHCHECK (its exec form, a JSON list)."""
    text = (Path(__file__).parents[2] / "Dockerfile").read_text()
    found = re.search(r"^HEALTHCHECK [^\n]*\\\n\s*CMD (\[[^\n]*\])$", text, re.MULTILINE)
    assert found is not None, "the Dockerfile has a HEALTHCHECK in exec form"
    return json.loads(found.group(1))


@pytest.mark.one_database("the HEALTHCHECK asks /healthz; the database is incidental")
@pytest.mark.parametrize("database_kind", ["sqlite"])
def test_the_containers_healthcheck_passes_on_the_monitor_and_fails_without_it(make_app, serve):
    port = free_port()
    app = make_app(extra=f'[metrics]\nlisten = "127.0.0.1:{port}"\n')
    (server,) = listeners.servers(app)
    serve(server)
    command = healthcheck()
    url = {"MAILDESK_HEALTH_URL": f"http://127.0.0.1:{port}/healthz"}
    assert subprocess.run(command, env=os.environ | url, timeout=30).returncode == 0
    closed = {"MAILDESK_HEALTH_URL": f"http://127.0.0.1:{free_port()}/healthz"}
    failed = subprocess.run(command, env=os.environ | closed, capture_output=True, timeout=30)
    assert failed.returncode != 0, "nothing listening: unhealthy"
