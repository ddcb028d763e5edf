"""Outbox retry policy, permanent failures and one connection per drain (broken ones
reopened), against a real SMTP server."""

import asyncio
import threading
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from maildesk.config import OutboxConfig
from maildesk.errors import DatabaseUnavailable
from maildesk.intake import pipeline
from maildesk.store import db
from maildesk.store.tables import OutboxMail, OutboxRecipient, OutboxStatus
from maildesk.transport import outbox
from tests.conftest import make_mail
from tests.support import write_lock


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


def queue_acks(app, count: int) -> None:
    """One acknowledgement each to c0@customer.example … c{count-1}@customer.example."""
    for n in range(count):
        mail = make_mail(sender=f"c{n}@customer.example", subject=f"mail {n}")
        pipeline.process(app, mail.as_bytes(), "test")


def rows_by_recipient(app) -> dict[str, OutboxMail]:
    with db.transaction(app.sessions) as session:
        query = select(OutboxRecipient.address, OutboxMail).join(OutboxMail.recipients)
        return {address: row for address, row in session.execute(query)}


def sent_once(sink) -> bool:
    ids = [m["Message-ID"] for m in sink.messages]
    return len(ids) == len(set(ids))


def test_a_drain_sends_its_mails_over_one_connection(make_app, smtp_sink):
    app = make_app(sink=smtp_sink)
    queue_acks(app, 5)
    assert asyncio.run(outbox.drain(app)).sent == 5
    assert len(smtp_sink.messages) == 5 and smtp_sink.connections == 1


def test_a_drain_shares_its_batch_among_its_connections(make_app, smtp_sink):
    """`outbox.connections` at once, each taking the next mail: every mail once, all sent."""
    app = make_app(sink=smtp_sink)
    app.config = replace(app.config, outbox=replace(app.config.outbox, connections=3))
    queue_acks(app, 7)
    assert asyncio.run(outbox.drain(app)).sent == 7
    assert len(smtp_sink.messages) == 7 and sent_once(smtp_sink)
    assert smtp_sink.connections == 3
    with db.transaction(app.sessions) as session:
        statuses = session.scalars(select(OutboxMail.status)).all()
    assert statuses == [OutboxStatus.SENT] * 7


@pytest.mark.parametrize("how", ["drop", "421"])
def test_a_connection_lost_after_the_first_mail_is_reopened_for_the_rest(make_app, smtp_sink, how):
    """A server closing between mails (idle timeout, mails-per-connection limit): the next
    mail, which it never began, goes on a new connection, counting no attempt."""
    app = make_app(sink=smtp_sink)
    queue_acks(app, 4)
    mails: list[object] = []  # the connection (aiosmtpd's SMTP) of each MAIL command

    async def break_once(server, session, envelope, address, options):
        mails.append(server)
        if len(mails) == 2 and mails[0] is server:  # the first connection's second mail
            if how == "drop":
                server.transport.close()
            return "421 4.7.0 too many mails on this connection, closing"
        envelope.mail_from = address
        return "250 OK"

    smtp_sink.handle_MAIL = break_once
    result = asyncio.run(outbox.drain(app))
    assert (result.sent, result.deferred, result.failed) == (4, 0, 0)
    assert len(smtp_sink.messages) == 4 and sent_once(smtp_sink)
    assert smtp_sink.connections == 2, "the rest on one new connection"
    assert {row.attempts for row in rows_by_recipient(app).values()} == {1}


def test_a_connection_lost_during_data_defers_that_mail_only(make_app, smtp_sink, clock):
    """Once DATA began the server may have the mail: no second copy now; the retry waits
    for the backoff, as with a connection per mail. The rest go on a new connection."""
    app = make_app(sink=smtp_sink)
    queue_acks(app, 3)
    keep = smtp_sink.handle_DATA

    async def lose_the_second(server, session, envelope):
        if envelope.rcpt_tos == ["c1@customer.example"]:
            server.transport.close()
            return "451 4.3.0 never heard"
        return await keep(server, session, envelope)

    smtp_sink.handle_DATA = lose_the_second
    result = asyncio.run(outbox.drain(app))
    assert (result.sent, result.deferred, result.failed) == (2, 1, 0)
    assert smtp_sink.connections == 2
    lost = rows_by_recipient(app)["c1@customer.example"]
    assert lost.status == OutboxStatus.PENDING and lost.attempts == 1
    assert lost.next_attempt_at == clock() + timedelta(seconds=60)
    assert "SMTPServerDisconnected" in lost.last_error


def test_a_refused_mail_leaves_the_others_on_the_same_connection(make_app, smtp_sink, clock):
    """A 4xx is that mail's retry with backoff, a 5xx its failure; the rest are sent."""
    app = make_app(sink=smtp_sink)
    queue_acks(app, 5)
    answers = {
        "c1@customer.example": "450 4.2.1 mailbox busy",
        "c3@customer.example": "550 5.1.1 no such user",
    }

    async def refuse_two(server, session, envelope, address, options):
        if address in answers:
            return answers[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    smtp_sink.handle_RCPT = refuse_two
    result = asyncio.run(outbox.drain(app))
    assert (result.sent, result.deferred, result.failed) == (3, 1, 1)
    assert smtp_sink.connections == 1 and sent_once(smtp_sink)
    assert sorted(to for _, (to,), _ in smtp_sink.received) == [
        f"c{n}@customer.example" for n in (0, 2, 4)
    ]
    rows = rows_by_recipient(app)
    busy, unknown = rows["c1@customer.example"], rows["c3@customer.example"]
    assert busy.status == OutboxStatus.PENDING and "450" in busy.last_error
    assert busy.next_attempt_at == clock() + timedelta(seconds=60)
    assert unknown.status == OutboxStatus.FAILED and "550" in unknown.last_error
    assert {rows[f"c{n}@customer.example"].status for n in (0, 2, 4)} == {OutboxStatus.SENT}


def test_a_mail_accepted_while_the_database_is_away_is_marked_later_not_sent_again(
    make_app, smtp_sink, clock, database_url
):
    """The server took the mail, then the database went away before its row was marked
    sent (tests/faults/test_postgres_restart.py): the worker remembers it, and its next
    drain marks it instead of sending it again once the claim has run out."""
    app = make_app(sink=smtp_sink, busy_timeout=0.1)
    queue_acks(app, 1)
    locked, release = threading.Event(), threading.Event()

    def hold_the_outbox() -> None:  # another writer, until the test lets go
        with write_lock(database_url, table="outbox"):
            locked.set()
            release.wait(30)

    holder = threading.Thread(target=hold_the_outbox)
    keep = smtp_sink.handle_DATA

    async def lock_then_accept(server, session, envelope):
        if not locked.is_set():  # the first mail only
            holder.start()
            assert locked.wait(30)
        return await keep(server, session, envelope)

    smtp_sink.handle_DATA = lock_then_accept
    try:
        with pytest.raises(DatabaseUnavailable):
            asyncio.run(outbox.drain(app))
    finally:
        release.set()
        holder.join(30)
    clock.advance(seconds=app.config.outbox.claim_seconds + 1)
    assert asyncio.run(outbox.drain(app)).sent == 0
    assert len(smtp_sink.messages) == 1, "not sent again"
    assert rows_by_recipient(app)["c0@customer.example"].status == OutboxStatus.SENT
