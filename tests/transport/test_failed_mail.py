"""A mail refused for good: failed with its reason, the admins told once, sent again by
`outbox retry` after a fix; `outbox list` and `status` show it. Real SMTP, real database."""

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import select

from maildesk.cli import cli
from maildesk.intake import pipeline
from maildesk.store import db
from maildesk.store.tables import OutboxKind, OutboxMail, OutboxStatus
from maildesk.transport import outbox
from maildesk.views.status import status
from tests.conftest import make_mail
from tests.desk.sla.desk import SLA, customer_writes, run_sweep
from tests.support import desk_toml

ADMINS = """
[[agents]]
email = "root@desk.example"
name = "Root"
role = "admin"

[[agents]]
email = "ops@desk.example"
name = "Ops"
role = "admin"
"""
CUSTOMER = "ann@customer.example"


def refusing(sink, refused: set[str]) -> None:
    """The SMTP server answers 550 to every address in `refused` (changed as the test goes)."""

    async def handle_rcpt(server, session, envelope, address, options):
        if address in refused:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    sink.handle_RCPT = handle_rcpt


def rows(app) -> list[tuple[int, str, str, str, int]]:
    """(id, kind, first recipient, status, attempts) of every outbox row, oldest first."""
    with db.transaction(app.sessions) as session:
        found = session.scalars(select(OutboxMail).order_by(OutboxMail.id)).all()
        return [(r.id, r.kind, r.recipients[0].address, r.status, r.attempts) for r in found]


def drain(app, now: datetime | None = None) -> outbox.DrainResult:
    return asyncio.run(outbox.drain(app, now))


def run_cli(tmp_path: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--config", str(tmp_path / "maildesk.toml"), *args])
    # What it says: its answer on stdout, or its error on stderr, never its log (stderr).
    return result.exit_code, result.stdout if result.exit_code == 0 else result.stderr


def test_a_refused_mail_is_told_to_each_admin_once_and_a_failed_notice_tells_nobody(
    make_app, smtp_sink
):
    app = make_app(sink=smtp_sink, extra=ADMINS)
    refused = {CUSTOMER, "ops@desk.example"}
    refusing(smtp_sink, refused)
    pipeline.process(app, make_mail(sender=CUSTOMER).as_bytes(), "test")
    assert drain(app).failed == 1
    ack, *notices = rows(app)
    assert ack[1:] == (OutboxKind.ACK, CUSTOMER, OutboxStatus.FAILED, 1)
    assert [(kind, to, status) for _, kind, to, status, _ in notices] == [
        (OutboxKind.ADMIN_NOTICE, "root@desk.example", OutboxStatus.PENDING),
        (OutboxKind.ADMIN_NOTICE, "ops@desk.example", OutboxStatus.PENDING),
    ]
    result = drain(app)  # root's notice arrives; ops's is refused too, and tells nobody
    assert (result.sent, result.failed) == (1, 1)
    assert len(rows(app)) == 3, "no notice of a failed notice, and none again for the ack"
    (notice,) = [m for _, to, m in smtp_sink.received if to == ["root@desk.example"]]
    assert f"outbox #{ack[0]}" in notice["Subject"]
    assert "550, '5.1.1 no such user" in notice.get_content()
    assert f"maildesk outbox retry {ack[0]}" in notice.get_content()


def test_retry_sends_a_failed_mail_again_after_the_fix_and_a_new_failure_tells_again(
    make_app, smtp_sink, tmp_path: Path
):
    """The command line's clock is the real one: the drains after a retry run at its time."""
    app = make_app(sink=smtp_sink, extra=ADMINS)
    refused = {CUSTOMER}
    refusing(smtp_sink, refused)
    pipeline.process(app, make_mail(sender=CUSTOMER).as_bytes(), "test")
    drain(app)
    drain(app)  # the two notices go out
    ack_id = rows(app)[0][0]
    retried = run_cli(tmp_path, "outbox", "retry", str(ack_id))
    assert retried == (0, f"outbox mail {ack_id} is due now (attempts so far: 1)\n")
    assert rows(app)[0][3:] == (OutboxStatus.PENDING, 1)
    assert drain(app, datetime.now(UTC)).failed == 1, "still refused: it fails again"
    assert len(rows(app)) == 5, "a new failure after a retry is told again"
    refused.clear()  # the fix
    assert run_cli(tmp_path, "outbox", "retry", str(ack_id))[0] == 0
    assert drain(app, datetime.now(UTC)).sent == 3  # the ack and the two new notices
    assert rows(app)[0][3:] == (OutboxStatus.SENT, 3)
    code, output = run_cli(tmp_path, "outbox", "retry", str(ack_id))
    assert code == 2 and f"mail {ack_id} was sent" in output
    code, output = run_cli(tmp_path, "outbox", "retry", "999")
    assert code == 2 and "there is no outbox mail 999" in output
    assert rows(app)[0][3:] == (OutboxStatus.SENT, 3), "a refused retry changes nothing"


def test_outbox_list_and_status_show_the_failed_mail_its_reason_and_the_breaches(
    make_app, smtp_sink, clock, tmp_path: Path
):
    app = make_app(sink=smtp_sink, extra=desk_toml() + SLA.format(keys=""))
    refusing(smtp_sink, {"bad@customer.example"})
    customer_writes(app, subject="Shop is down")  # #1, P0: its clocks breach within the hour
    customer_writes(app, sender="bad@customer.example")  # #2: its acknowledgement is refused
    drain(app)
    clock.advance(hours=1)
    run_sweep(app)  # the breaches and escalations are queued now, and wait
    clock.advance(minutes=5)
    with db.transaction(app.sessions) as session:
        now = status(session, clock())
    sent = sum(1 for *_, state, _ in rows(app) if state == OutboxStatus.SENT)
    pending = sum(1 for *_, state, _ in rows(app) if state == OutboxStatus.PENDING)
    assert pending > 0 and sent > 0
    assert now["outbox"] == {
        "pending": pending,
        "sent": sent,
        "failed": 1,
        "oldest_pending_at": (clock() - timedelta(minutes=5)).isoformat(),
        "oldest_pending_seconds": 300,
    }
    assert now["tickets"] == {"open": 2, "pending": 0, "resolved": 0, "closed": 0}
    assert now["sla_breached"] == {"open": 2, "total": 2}  # #1's clocks due within the hour

    code, output = run_cli(tmp_path, "outbox", "list", "--failed", "--json")
    (failed,) = json.loads(output)
    assert code == 0 and set(failed) == LIST_KEYS
    assert (failed["ticket"], failed["recipients"], failed["kind"]) == (
        2,
        ["bad@customer.example"],
        "ack",
    )
    assert "5.1.1 no such user" in failed["last_error"] and failed["next_attempt_at"] is None
    code, output = run_cli(tmp_path, "outbox", "list", "--json")
    everything = json.loads(output)
    assert [row["id"] for row in everything] == sorted((r[0] for r in rows(app)), reverse=True)
    code, output = run_cli(tmp_path, "outbox", "list")
    assert code == 0 and "5.1.1 no such user" in output and "bad@customer.example" in output
    code, output = run_cli(tmp_path, "status", "--json")
    assert code == 0 and set(json.loads(output)) == {
        "at",
        "outbox",
        "tickets",
        "sla_breached",
        "quarantined",
        "mailboxes",
    }
    code, output = run_cli(tmp_path, "status")
    assert code == 0 and f"outbox: {pending} pending, 1 failed, {sent} sent" in output
    assert (
        "tickets: 2 open" in output and "sla: 2 clocks breached and still open (2 ever)" in output
    )


LIST_KEYS = {
    "id",
    "kind",
    "ticket",
    "recipients",
    "status",
    "attempts",
    "last_error",
    "created_at",
    "next_attempt_at",
    "sent_at",
}
