"""Outbox retry policy and permanent failures, against a real SMTP server."""

import asyncio
import threading
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import func, select

from maildesk.config import OutboxConfig
from maildesk.intake import pipeline
from maildesk.store import db
from maildesk.store.tables import OutboxMail, OutboxStatus
from maildesk.transport import outbox
from tests.conftest import make_mail


def test_backoff_grows_and_is_capped():
    config = OutboxConfig(
        max_attempts=8,
        retry_base_seconds=30,
        retry_max_seconds=600,
        batch_size=10,
        drain_interval=5,
    )
    delays = [outbox.backoff(config, n) for n in range(1, 7)]
    assert delays[:4] == [timedelta(seconds=s) for s in (30, 60, 120, 240)]
    assert delays[-1] == timedelta(seconds=600)


def test_rows_fail_after_max_attempts(make_app, smtp_sink, clock):
    app = make_app(sink=smtp_sink)
    smtp_sink.refuse = True
    pipeline.process(app, make_mail().as_bytes(), "test")
    for _ in range(app.config.outbox.max_attempts):
        asyncio.run(outbox.drain(app))
        clock.advance(hours=2)
    with db.transaction(app.sessions) as session:
        row = session.scalar(select(OutboxMail))
        assert row.status == "failed" and row.attempts == 5 and "451" in row.last_error
    assert asyncio.run(outbox.drain(app)).sent == 0


def test_permanent_refusal_fails_at_once(make_app, smtp_sink):
    app = make_app(sink=smtp_sink)

    async def refuse(server, session, envelope, address, options):
        return "550 5.1.1 no such user"

    smtp_sink.handle_RCPT = refuse
    pipeline.process(app, make_mail().as_bytes(), "test")
    result = asyncio.run(outbox.drain(app))
    assert result.failed == 1
    with db.transaction(app.sessions) as session:
        assert session.scalar(select(OutboxMail)).attempts == 1


def test_concurrent_drains_send_each_mail_once(make_app, smtp_sink):
    app = make_app(sink=smtp_sink)
    for n in range(6):
        pipeline.process(app, make_mail(sender=f"c{n}@x.example", subject=f"s{n}").as_bytes(), "t")

    async def two_workers():
        return await asyncio.gather(outbox.drain(app), outbox.drain(app))

    first, second = asyncio.run(two_workers())
    assert first.sent + second.sent == 6
    assert sorted(m["Subject"] for m in smtp_sink.messages) == [
        f"[Ticket#{n}] s{n - 1}" for n in range(1, 7)
    ]


def test_two_workers_draining_at_once_send_each_mail_once(make_app, smtp_sink):
    """Two daemons' drain jobs race over one outbox (SKIP LOCKED claims on PostgreSQL)."""
    first, second = make_app(sink=smtp_sink), make_app(sink=smtp_sink)
    for app in (first, second):
        app.config = replace(app.config, outbox=replace(app.config.outbox, batch_size=3))
    for n in range(30):
        mail = make_mail(sender=f"c{n}@customer.example", subject=f"mail {n}")
        pipeline.process(first, mail.as_bytes(), "test")

    def pending() -> int:
        with db.transaction(first.sessions) as session:
            query = select(func.count()).where(OutboxMail.status == OutboxStatus.PENDING)
            return session.scalar(query.select_from(OutboxMail))

    def worker(app) -> None:
        while pending():
            asyncio.run(outbox.drain(app))

    threads = [threading.Thread(target=worker, args=(app,)) for app in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    sent = [m["Message-ID"] for m in smtp_sink.messages]
    assert len(sent) == 30 and len(set(sent)) == 30, "each mail sent exactly once"
