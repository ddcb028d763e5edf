"""Mail in over real IMAP (Dovecot) → tickets → acknowledgements out over real SMTP."""

import asyncio
import base64
import re
import uuid

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from maildesk.store import db
from maildesk.store.intake_tables import Quarantine
from maildesk.store.tables import OutboxMail, OutboxStatus
from maildesk.transport import outbox
from tests.conftest import SmtpSink, free_port, make_mail
from tests.support import cycle, events, show, stats


def test_new_mail_makes_ticket_with_priority_and_threaded_ack(mailbox, smtp_sink, make_app):
    app = make_app(mailbox, smtp_sink)
    mail = make_mail(subject="Checkout outage since 9:00", body="Nobody can pay.")
    mailbox.deliver(mail)

    cycle(app)

    ticket = show(app, 1)
    assert ticket["priority"] == "P0" and ticket["category"] == "outage"
    assert ticket["customer"] == "ann@customer.example"
    assert [m["direction"] for m in ticket["messages"]] == ["in", "out"]
    assert len(smtp_sink.received) == 1
    sender, rcpts, ack = smtp_sink.received[0]
    assert rcpts == ["ann@customer.example"] and sender == "support@desk.example"
    assert ack["Subject"] == "[Ticket#1] Checkout outage since 9:00"
    assert ack["In-Reply-To"] == mail["Message-ID"]
    assert mail["Message-ID"] in ack["References"]
    assert ack["Auto-Submitted"] == "auto-replied"
    assert ack["Precedence"] == "bulk"
    assert ack["X-Auto-Response-Suppress"] == "All"
    assert ack["X-Maildesk-Loop"] == "desk.example"
    assert re.match(r"<md\.1\.", ack["Message-ID"])
    assert mailbox.count("INBOX") == 0 and mailbox.count("Processed") == 1


def test_chinese_mail_gets_chinese_ack(mailbox, smtp_sink, make_app):
    app = make_app(mailbox, smtp_sink)
    mailbox.deliver(
        make_mail(
            sender="张伟 <zw@example.cn>",
            subject="系统宕机",
            body="您好，系统从早上开始无法使用。",
        )
    )
    cycle(app)
    ack = smtp_sink.messages[0]
    assert ack["Subject"] == "[Ticket#1] 系统宕机"
    assert "工单编号" in ack.get_content() and "张伟" in ack.get_content()
    assert show(app, 1)["priority"] == "P0"


def test_reply_threads_by_tag_and_by_headers_alone(mailbox, smtp_sink, make_app):
    app = make_app(mailbox, smtp_sink)
    mailbox.deliver(make_mail(subject="Printer jam"))
    cycle(app)
    ack = smtp_sink.messages[0]

    by_tag = make_mail(subject=f"Re: {ack['Subject']}", body="It jammed again.")
    by_headers = make_mail(
        subject="new subject, no tag",
        body="And once more.",
        In_Reply_To=ack["Message-ID"],
        References=ack["Message-ID"],
    )
    mailbox.deliver(by_tag)
    cycle(app)
    mailbox.deliver(by_headers)
    cycle(app)

    ticket = show(app, 1)
    texts = [m["text"] for m in ticket["messages"] if m["direction"] == "in"]
    assert texts == ["My printer is on fire.", "It jammed again.", "And once more."]
    assert stats(app)["tickets"] == 1
    assert len(smtp_sink.received) == 1, "follow-ups get no new ack by default"


def test_stranger_with_a_tag_opens_a_new_ticket(mailbox, smtp_sink, make_app):
    app = make_app(mailbox, smtp_sink)
    mailbox.deliver(make_mail(subject="Private matter"))
    cycle(app)
    mailbox.deliver(make_mail(sender="mallory@evil.example", subject="Re: [Ticket#1] hi"))
    cycle(app)
    assert stats(app)["tickets"] == 2
    assert show(app, 2)["customer"] == "mallory@evil.example"


def test_other_systems_tags_are_not_ours(mailbox, smtp_sink, make_app):
    app = make_app(mailbox, smtp_sink)
    mailbox.deliver(make_mail(subject="first"))
    cycle(app)
    mailbox.deliver(make_mail(subject="Re: [RT #1] unrelated"))
    cycle(app)
    assert stats(app)["tickets"] == 2


def test_auto_reply_and_bounce_get_no_ack(mailbox, smtp_sink, make_app):
    app = make_app(mailbox, smtp_sink)
    vacation = make_mail(subject="Out of office", Auto_Submitted="auto-replied")
    bounce = make_mail(
        sender="MAILER-DAEMON@mx.example",
        subject="Undelivered Mail Returned to Sender",
        Return_Path="<>",
    )
    mailbox.deliver(vacation, bounce)
    cycle(app)
    numbers = stats(app)
    assert numbers["by_class"]["auto_reply"] == 1 and numbers["by_class"]["bounce"] == 1
    assert numbers["messages"] == 2
    assert smtp_sink.received == []


def test_auto_reply_to_an_ack_is_stored_on_the_ticket_without_answer(mailbox, smtp_sink, make_app):
    app = make_app(mailbox, smtp_sink)
    mailbox.deliver(make_mail(subject="Need help"))
    cycle(app)
    ack = smtp_sink.messages[0]
    mailbox.deliver(
        make_mail(
            subject=f"Automatic reply: {ack['Subject']}",
            Auto_Submitted="auto-replied",
            In_Reply_To=ack["Message-ID"],
        )
    )
    cycle(app)
    ticket = show(app, 1)
    assert [m["class"] for m in ticket["messages"]] == ["human", "auto_reply", "auto_reply"]
    assert stats(app)["tickets"] == 1 and len(smtp_sink.received) == 1


def test_follow_up_reopens_resolved_ticket(mailbox, smtp_sink, make_app):
    from maildesk.store.tables import Ticket

    app = make_app(mailbox, smtp_sink)
    mailbox.deliver(make_mail(subject="Broken"))
    cycle(app)
    with db.transaction(app.sessions) as session:
        session.scalar(select(Ticket)).status = "resolved"
    mailbox.deliver(make_mail(subject="Re: [Ticket#1] Broken", body="Still broken."))
    cycle(app)
    assert show(app, 1)["status"] == "open"


def test_malformed_mail_is_quarantined_and_the_queue_goes_on(mailbox, smtp_sink, make_app):
    app = make_app(mailbox, smtp_sink)
    garbage = b"\x00\x01\x02 this is not a mail at all \xff\xfe\r\n"
    mailbox.deliver(garbage, make_mail(subject="after the garbage"))
    cycle(app)
    numbers = stats(app)
    assert numbers["quarantined"] == 1 and numbers["tickets"] == 1
    with db.transaction(app.sessions) as session:
        row = session.scalar(select(Quarantine))
        assert b"this is not a mail at all \xff\xfe" in row.raw.data, "raw bytes kept"
        assert "not an email" in row.reason
    assert mailbox.count("Quarantine") == 1 and mailbox.count("Processed") == 1


def test_same_message_twice_makes_one_entry(mailbox, smtp_sink, make_app):
    app = make_app(mailbox, smtp_sink)
    mail = make_mail(subject="Sent twice")
    mailbox.deliver(mail, mail)
    cycle(app)
    numbers = stats(app)
    assert numbers["tickets"] == 1 and numbers["messages"] == 1
    assert len(smtp_sink.received) == 1
    assert mailbox.count("Processed") == 2


def test_smtp_down_intake_goes_on_and_acks_go_out_later(mailbox, smtp_sink, make_app, clock):
    app = make_app(mailbox, smtp_sink)
    smtp_sink.refuse = True
    mailbox.deliver(make_mail(subject="one"), make_mail(subject="two"))
    result, sent = cycle(app)
    assert result.handled == 2 and sent.deferred == 2 and smtp_sink.received == []
    assert stats(app)["outbox"] == {"pending": 2, "sent": 0, "failed": 0}

    smtp_sink.refuse = False
    assert asyncio.run(outbox.drain(app)).sent == 0, "not due before the backoff"
    clock.advance(minutes=2)
    assert asyncio.run(outbox.drain(app)).sent == 2
    assert asyncio.run(outbox.drain(app)).sent == 0, "sent exactly once"
    assert sorted(m["Subject"] for m in smtp_sink.messages) == ["[Ticket#1] one", "[Ticket#2] two"]
    with db.transaction(app.sessions) as session:
        rows = session.scalars(select(OutboxMail)).all()
        assert all(r.status == OutboxStatus.SENT and r.attempts == 2 for r in rows)


def test_smtp_server_gone_entirely_defers(mailbox, make_app, tmp_path):
    app = make_app(mailbox, SmtpSink(port=free_port()))
    mailbox.deliver(make_mail())
    result, sent = cycle(app)
    assert result.handled == 1 and sent.deferred == 1
    with db.transaction(app.sessions) as session:
        assert "Connect" in session.scalar(select(OutboxMail)).last_error


# Addresses and text the sender chose.

ATTACKER = '"x,victim@target.test"@attacker.test'


def encoded(text: str) -> str:
    """`text` as RFC 2047 words on folded lines, so any character can reach our parser."""
    data = text.encode()
    words = (base64.b64encode(data[n : n + 45]).decode() for n in range(0, len(data), 45))
    return "\r\n ".join(f"=?utf-8?b?{word}?=" for word in words)


def raw_mail(*senders: str, subject: str = "Hello", body: str = "Please help.") -> bytes:
    """A mail with one From line per sender, written as given (no library re-encodes it)."""
    lines = [f"From: {value}" for value in senders] + [
        "To: support@desk.example",
        f"Subject: {subject}",
        "Date: Mon, 23 Nov 2026 10:00:00 +0800",
        f"Message-ID: <{uuid.uuid4().hex}@sender.example>",
        "",
        body,
    ]
    return "\r\n".join(lines).encode() + b"\r\n"


def suppressed(ticket: dict) -> list[str]:
    return [e["detail"] for e in ticket["events"] if e["kind"] == "auto_reply_suppressed"]


def test_quoted_local_part_with_a_comma_gets_no_mail_at_all(mailbox, smtp_sink, make_app):
    app = make_app(mailbox, smtp_sink)
    mailbox.deliver(raw_mail(ATTACKER, subject="Urgent: call me", body="Ticket please."))

    cycle(app)

    assert smtp_sink.received == []
    assert stats(app)["outbox"] == {"pending": 0, "sent": 0, "failed": 0}
    ticket = show(app, 1)
    assert ticket["customer"] == "" and ticket["subject"] == "Urgent: call me"
    assert [(m["direction"], m["text"]) for m in ticket["messages"]] == [("in", "Ticket please.")]
    assert ticket["messages"][0]["from"] == ATTACKER
    assert events(app, 1, "no_customer_address") == [
        f"no customer address: the sender {ATTACKER} is not one we deliver to"
        " (a quoted local part); nothing is sent to it"
    ]
    assert suppressed(ticket) == ["ack not sent: no address to send to"]
    assert mailbox.count("Processed") == 1


@pytest.mark.parametrize(
    "senders",
    [
        ("Ann <ann@customer.example>, Victim <victim@target.test>",),
        ("ann@customer.example", "victim@target.test"),
    ],
    ids=["one From header", "two From headers"],
)
def test_from_with_two_addresses_makes_a_ticket_and_no_ack(mailbox, smtp_sink, make_app, senders):
    app = make_app(mailbox, smtp_sink)
    mailbox.deliver(raw_mail(*senders))
    cycle(app)
    assert smtp_sink.received == []
    ticket = show(app, 1)
    assert ticket["customer"] == ""
    assert [m["direction"] for m in ticket["messages"]] == ["in"]
    [why] = events(app, 1, "no_customer_address")
    assert "ann@customer.example, victim@target.test is not one we deliver to" in why
    assert "(more than one address)" in why
    assert suppressed(ticket) == ["ack not sent: no address to send to"]


def test_line_breaks_in_name_and_subject_stay_data_in_the_ack(mailbox, smtp_sink, make_app):
    app = make_app(mailbox, smtp_sink)
    injected = "\r\nBcc: victim@target.test\r\nX-Injected: yes\r\n\r\nPay now"
    name = encoded("Ann" + injected + "A" * 10_000)
    subject = encoded("Help" + injected + "S" * 500)
    mailbox.deliver(raw_mail(f"{name} <ann@customer.example>", subject=subject))

    cycle(app)

    [(_sender, rcpts, ack)] = smtp_sink.received
    assert rcpts == ["ann@customer.example"]
    assert ack["Bcc"] is None and ack["X-Injected"] is None
    assert ack["To"] == "ann@customer.example"
    assert ack["Subject"].startswith("[Ticket#1] Help Bcc: victim@target.test X-Injected: yes")
    assert len(ack["Subject"]) <= 200 and ack["Subject"].endswith("…")
    body = ack.get_content().splitlines()
    [greeting] = [line for line in body if line.startswith("Dear ")]
    assert greeting.startswith("Dear Ann Bcc: victim@target.test X-Injected: yes Pay nowAAA")
    assert len(greeting) <= len("Dear ,") + 80 and "…" in greeting
    assert not any(line.startswith(("Bcc", "X-Injected", "Pay")) for line in body)


def test_a_rejected_attachment_name_is_one_line_in_the_ack(mailbox, smtp_sink, make_app):
    app = make_app(mailbox, smtp_sink, extra="[intake]\nmax_attachment_bytes = 10\n")
    name = b"a.pdf%0D%0APay%20now%20to%20account%20123" + b"N" * 200
    mailbox.deliver(
        b"From: Ann Lee <ann@customer.example>\r\nTo: support@desk.example\r\n"
        b"Subject: with a file\r\nMessage-ID: <file@customer.example>\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
        b"Content-Type: text/plain\r\n\r\nThe file.\r\n--b\r\nContent-Type: application/pdf\r\n"
        b"Content-Disposition: attachment; filename*=utf-8''"
        + name
        + b"\r\n\r\n"
        + b"x" * 100
        + b"\r\n--b--\r\n"
    )
    cycle(app)
    body = smtp_sink.messages[0].get_content().splitlines()
    [named] = [line for line in body if "a.pdf" in line]
    assert "a.pdf Pay now to account 123" in named and len(named) <= 90
    assert not any(line.startswith("Pay now") for line in body)


def test_internationalised_address_gets_its_ack_in_utf8(mailbox, smtp_sink, make_app):
    app = make_app(mailbox, smtp_sink)
    mailbox.deliver(raw_mail(f"{encoded('张伟')} <张伟@例子.中国>"))
    cycle(app)
    [(_sender, rcpts, ack)] = smtp_sink.received
    assert rcpts == ["张伟@例子.中国"] and ack["To"] == "张伟@例子.中国"


def test_a_server_without_smtputf8_defers_that_ack_and_sends_the_rest(mailbox, make_app):
    sink = SmtpSink(port=free_port())
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port, enable_SMTPUTF8=False)
    controller.start()
    try:
        app = make_app(mailbox, sink)
        mailbox.deliver(raw_mail("张伟@例子.中国"), raw_mail("ann@customer.example"))
        _result, sent = cycle(app)
    finally:
        controller.stop()
    assert (sent.sent, sent.deferred) == (1, 1)
    assert [rcpts for _, rcpts, _ in sink.received] == [["ann@customer.example"]]
