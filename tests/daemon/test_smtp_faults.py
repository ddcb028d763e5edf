"""`maildesk run` against an SMTP server whose answers the test switches: busy (4xx) for
a number of mails, then back; and one address it refuses for good (5xx). Nothing is
lost or sent twice, retries wait their backoff, the refused mail fails with its reason
and the admin hears of it once. Real aiosmtpd, Dovecot, the database on disk."""

import email
import time
from email import policy

import pytest

from tests.conftest import make_mail
from tests.daemon.test_process import HANG, start_daemon, stop
from tests.support import count
from tests.transport.test_failed_mail import refusing

BUSY = 8  # DATA commands answered 451 before the server is back
RETRY_BASE = 0.5  # seconds: outbox.retry_base_seconds of this desk
SLACK = 0.25  # seconds a drain may take to reach a mail after its start
ADMIN = "root@desk.example"
REFUSED = "gone@customer.example"
CUSTOMERS = [f"c{n}@customer.example" for n in range(4)]


def busy_at_first(sink, tries: dict[str, list[float]]) -> None:
    """The sink answers 451 to its first BUSY mails, then takes them; `tries` gets the
    moments each Message-ID was offered."""
    take = sink.handle_DATA
    busy = [BUSY]

    async def handle_data(server, session, envelope) -> str:
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        tries.setdefault(message["Message-ID"], []).append(time.monotonic())
        if busy[0]:
            busy[0] -= 1
            return "451 4.3.2 busy, try again later"
        return await take(server, session, envelope)

    sink.handle_DATA = handle_data


@pytest.mark.parametrize("database_kind", ["sqlite"])  # what is sent is not the database's
def test_busy_then_back_loses_nothing_and_a_refusal_fails_telling_the_admin_once(
    tmp_path, database_url, mailbox, smtp_sink, make_app
):
    make_app(
        mailbox, smtp_sink, extra=f'[[agents]]\nemail = "{ADMIN}"\nname = "Root"\nrole = "admin"'
    )
    config = tmp_path / "maildesk.toml"
    fast_retries = f"retry_base_seconds = {RETRY_BASE}\ndrain_interval = 0.5"
    config.write_text(config.read_text().replace("retry_base_seconds = 60", fast_retries))
    tries: dict[str, list[float]] = {}
    busy_at_first(smtp_sink, tries)
    refusing(smtp_sink, {REFUSED})
    mailbox.deliver(*(make_mail(sender=c, subject=f"from {c}") for c in [*CUSTOMERS, REFUSED]))
    daemon = start_daemon(config)
    try:
        smtp_sink.wait_for(len(CUSTOMERS) + 1, HANG)  # the acks and the admin's notice
        mailbox.deliver(make_mail(sender="late@customer.example", subject="after it all"))
        smtp_sink.wait_for(len(CUSTOMERS) + 2, HANG)
    finally:
        code = stop(daemon)
    assert code == 0

    to = [rcpts for _, rcpts, _ in smtp_sink.received]
    assert sorted(to) == sorted([[c] for c in [*CUSTOMERS, "late@customer.example", ADMIN]])
    ids = [m["Message-ID"] for m in smtp_sink.messages]
    assert len(set(ids)) == len(ids), "each mail sent once"
    notice = next(m for _, rcpts, m in smtp_sink.received if rcpts == [ADMIN])
    assert REFUSED in notice.get_content() and "5.1.1 no such user" in notice.get_content()

    assert sum(len(t) for t in tries.values()) == BUSY + len(ids), "each 451 was retried"
    # The k-th retry waits RETRY_BASE · 2^(k-1) from its drain's start (less SLACK, the time
    # that drain took to reach the mail); 8 refusals of 5 mails retry one of them twice.
    assert any(len(moments) >= 3 for moments in tries.values())
    for moments in tries.values():
        gaps = [later - earlier for earlier, later in zip(moments, moments[1:], strict=False)]
        waits = [RETRY_BASE * 2**k - SLACK for k in range(len(gaps))]
        assert all(map(float.__gt__, gaps, waits)), f"retried without backoff: {gaps}"
    failed = "FROM outbox WHERE status = 'failed'"
    assert count(database_url, f"SELECT count(*) {failed}") == 1
    assert "550, '5.1.1 no such user'" in str(count(database_url, f"SELECT last_error {failed}"))
    assert count(database_url, "SELECT count(*) FROM outbox WHERE status = 'pending'") == 0
