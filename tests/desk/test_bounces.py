"""Bounces of our mail: tied to the ticket by our Message-ID, the address marked bouncing.

Real Dovecot in, real aiosmtpd out, a real SQLite file; the delivery reports
are built here the way Postfix writes them (RFC 3464).
"""

import uuid
from email.message import EmailMessage

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select

from maildesk import views
from maildesk.mail import dsn
from maildesk.mail.message import parse
from maildesk.store import db
from maildesk.store.tables import Base, Contact
from tests.conftest import make_mail
from tests.support import cycle, events, show

ANN = "ann@customer.example"


def contact(app, address: str) -> Contact | None:
    with db.transaction(app.sessions) as session:
        return session.scalar(select(Contact).where(Contact.address == address))


def returned_copy(mail: EmailMessage, subject: str | None) -> bytes:
    """Our mail as the remote MTA returns it; the subject edited or dropped on the way."""
    copy = EmailMessage()
    for name, value in mail.items():
        if name.lower() != "subject":
            copy[name] = value
    if subject is not None:
        copy["Subject"] = subject
    copy.set_content(mail.get_content())
    return copy.as_bytes()


def delivery_report(
    returned: bytes,
    *,
    headers_only: bool = False,
    final: str = ANN,
    action: str = "failed",
    status: str = "5.1.1",
    subject: str = "Undelivered Mail Returned to Sender",
) -> bytes:
    """A multipart/report bounce carrying `returned` whole or its headers only."""
    if headers_only:
        returned = returned.split(b"\n\n", 1)[0] + b"\n"
    kind = "text/rfc822-headers" if headers_only else "message/rfc822"
    head = f"""\
From: Mail Delivery System <MAILER-DAEMON@mx.customer.example>
To: support@desk.example
Subject: {subject}
Date: Mon, 23 Nov 2026 02:05:00 +0000
Message-ID: <{uuid.uuid4().hex}@mx.customer.example>
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b0undary"

--b0undary
Content-Type: text/plain; charset=us-ascii

I'm sorry to have to inform you that your message could not be delivered.

--b0undary
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.customer.example

Final-Recipient: rfc822; {final}
Original-Recipient: rfc822;{final}
Action: {action}
Status: {status}
Diagnostic-Code: smtp; 550 {status} <{final}>: Recipient address rejected:
 User unknown in virtual mailbox table

--b0undary
Content-Type: {kind}

"""
    return head.encode() + returned + b"\n--b0undary--\n"


@pytest.mark.parametrize("headers_only", [False, True], ids=["message-rfc822", "rfc822-headers"])
@pytest.mark.parametrize("returned_subject", [None, "Help please"], ids=["no-subject", "no-tag"])
def test_bounce_of_our_ack_marks_the_customer_and_notes_the_ticket(
    mailbox, smtp_sink, make_app, headers_only, returned_subject
):
    app = make_app(mailbox, smtp_sink)
    mailbox.deliver(make_mail(subject="Help please"))
    cycle(app)
    ack = smtp_sink.messages[0]

    report = delivery_report(returned_copy(ack, returned_subject), headers_only=headers_only)
    mailbox.deliver(report)
    cycle(app)

    ticket = show(app, 1)
    assert [m["class"] for m in ticket["messages"]] == ["human", "auto_reply", "bounce"]
    assert ticket["bouncing"] == [ANN]
    [note] = events(app, 1, "bounce")
    assert ANN in note and ack["Message-ID"] in note and "5.1.1" in note
    assert "User unknown" in note
    assert len(smtp_sink.received) == 1, "a bounce is never answered"
    with db.transaction(app.sessions) as session:
        assert views.stats(session)["tickets"] == 1
    found = contact(app, ANN)
    assert found.bouncing and found.bounce_count == 1 and "5.1.1" in found.last_bounce_reason


def test_bouncing_customer_gets_no_automatic_mail_until_she_writes_again(
    mailbox, smtp_sink, make_app, clock
):
    app = make_app(mailbox, smtp_sink, extra="[intake]\nack_follow_ups = true\n")
    mailbox.deliver(make_mail(subject="Help please", Cc="bob@customer.example"))
    cycle(app)
    mailbox.deliver(delivery_report(returned_copy(smtp_sink.messages[0], None)))
    cycle(app)

    clock.advance(minutes=5)
    mailbox.deliver(make_mail(sender="bob@customer.example", subject="Re: [Ticket#1] Help"))
    cycle(app)
    assert len(smtp_sink.received) == 1
    [why] = events(app, 1, "auto_reply_suppressed")
    assert f"mail to {ANN} bounces" in why

    mailbox.deliver(make_mail(subject="Re: [Ticket#1] Help", body="New mailbox works now."))
    cycle(app)
    assert contact(app, ANN).bouncing is False
    assert show(app, 1)["bouncing"] == []
    assert len(events(app, 1, "bounce_cleared")) == 1
    assert [rcpts for _, rcpts, _ in smtp_sink.received] == [[ANN], [ANN]]


def test_delayed_delivery_is_noted_but_marks_nothing(mailbox, smtp_sink, make_app):
    app = make_app(mailbox, smtp_sink)
    mailbox.deliver(make_mail())
    cycle(app)
    report = delivery_report(
        returned_copy(smtp_sink.messages[0], None),
        action="delayed",
        status="4.4.7",
        subject="Delivery Status Notification (Delay)",
    )
    mailbox.deliver(report)
    cycle(app)
    assert show(app, 1)["bouncing"] == []
    assert "4.4.7" in events(app, 1, "delivery_delayed")[0]
    assert contact(app, ANN) is None


def test_bounce_naming_none_of_our_mails_is_stored_but_marks_nothing(mailbox, smtp_sink, make_app):
    app = make_app(mailbox, smtp_sink)
    mailbox.deliver(make_mail(subject="Help please"))
    cycle(app)
    forged = make_mail(subject="[Ticket#1] Help please")
    del forged["Message-ID"]
    mailbox.deliver(delivery_report(forged.as_bytes(), headers_only=True))
    cycle(app)
    ticket = show(app, 1)
    assert ticket["messages"][-1]["class"] == "bounce", "follows our tag in the returned subject"
    assert ticket["bouncing"] == [] and contact(app, ANN) is None
    assert "names none of our mails" in events(app, 1, "bounce")[0]


def test_report_lines_are_read_per_recipient():
    raw = delivery_report(b"Subject: x\n", final="Ann@Customer.Example", status="5.2.2")
    [report] = parse(raw).reports
    assert report.final == ANN and report.names("ANN@customer.example")
    assert report.permanent and report.status == "5.2.2"
    assert report.diagnostic.startswith("550 5.2.2 <Ann@Customer.Example>: Recipient")


def test_exim_failed_recipients_header_without_report():
    raw = b"From: MAILER-DAEMON@x.example\nX-Failed-Recipients: A@B.example\n\nbody\n"
    assert parse(raw).reports == (dsn.Report(final="a@b.example"),)
    assert parse(raw).reports[0].permanent


@pytest.mark.parametrize(
    ("action", "status", "permanent"),
    [("failed", "5.1.1", True), ("delayed", "4.4.7", False), ("", "4.2.2", False), ("", "", True)],
)
def test_only_failures_are_permanent(action, status, permanent):
    assert dsn.Report(final=ANN, action=action, status=status).permanent is permanent


def test_migrations_match_the_models(make_app):
    app = make_app()
    with app.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
