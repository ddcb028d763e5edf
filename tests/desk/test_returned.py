"""Which mail of ours a bounce returns: each mail's own signed return path (VERP).

Only a report that comes back to the return path of the mail it reports, its
token checking, is trusted; one to any other address, or with a token edited,
marks nothing; and whatever arrives at the return path is a bounce, never
answered. Real Dovecot in, aiosmtpd out (its MAIL FROM recorded), both databases.
"""

from sqlalchemy import select

from maildesk.mail import verp
from maildesk.store import db
from maildesk.store.tables import OutboxMail
from tests.conftest import KEYS, make_mail
from tests.desk.conftest import VERP
from tests.desk.test_bounces import (
    ANN,
    bouncing,
    contact,
    delivery_report,
    return_path_of,
    returned_copy,
)
from tests.support import cycle, desk_toml, events, show


def test_each_mail_goes_out_with_its_own_signed_return_path(mailbox, smtp_sink, make_app):
    app = make_app(mailbox, smtp_sink, extra=desk_toml() + VERP)
    mailbox.deliver(make_mail(subject="Help please"))
    cycle(app)
    assert len(smtp_sink.received) == 2, "the ack and Lin's notification"
    with db.transaction(app.sessions) as session:
        rows = {m.message_id: m.id for m in session.scalars(select(OutboxMail))}
    senders = []
    for sender, rcpts, message in smtp_sink.received:
        assert message["From"] == "Test Support <support@desk.example>", "the From is unchanged"
        token = verp.found("bounces@desk.example", [sender])
        assert token.outbox_id == rows[message["Message-ID"]] and verp.checks(KEYS, token, rcpts)
        assert not verp.checks(KEYS, token, ["someone@else.example"])
        senders.append(sender)
    assert len(set(senders)) == 2 and all(s.startswith("bounces+") for s in senders)


def test_without_a_return_path_the_from_address_is_the_mail_from(mailbox, smtp_sink, make_app):
    app = make_app(mailbox, smtp_sink)
    mailbox.deliver(make_mail())
    cycle(app)
    assert [sender for sender, _, _ in smtp_sink.received] == ["support@desk.example"]


def test_a_forged_report_to_the_plain_address_marks_nothing(acked, mailbox, smtp_sink):
    app, ack = acked()
    mailbox.deliver(delivery_report(returned_copy(ack, None), to="support@desk.example"))
    cycle(app)
    assert show(app, 1)["messages"][-1]["class"] == "bounce", "it still finds its ticket"
    assert bouncing(app) == [] and contact(app, ANN) is None
    [note] = events(app, 1, "bounce")
    assert note == (
        "a bounce that proves nothing: it did not come back to a signed return path"
        " (bounces@desk.example); nothing marked"
    )


def test_a_report_whose_token_does_not_check_marks_nothing(acked, mailbox, smtp_sink):
    app, ack = acked()
    local, _at, domain = return_path_of(smtp_sink, ack).rpartition("@")
    forged = f"{local[:-1]}{'1' if local[-1] == '0' else '0'}@{domain}"
    mailbox.deliver(delivery_report(returned_copy(ack, None), to=forged))
    cycle(app)
    assert bouncing(app) == []
    assert "the token of its return path does not check" in events(app, 1, "bounce")[0]


def test_mail_to_the_return_path_is_a_bounce_and_never_answered(acked, mailbox, smtp_sink):
    app, ack = acked(VERP + "[intake]\nack_follow_ups = true\n")
    vacation = make_mail(
        sender="Ann <ann@customer.example>",
        subject="Re: [Ticket#1] Help please",
        body="I am away until Monday.",
        to=return_path_of(smtp_sink, ack),
        In_Reply_To=ack["Message-ID"],
    )
    stranger = make_mail(sender="eve@else.example", subject="hi", to="bounces@desk.example")
    mailbox.deliver(vacation, stranger)
    cycle(app)
    assert [m["class"] for m in show(app, 1)["messages"]] == ["human", "auto_reply", "bounce"]
    assert show(app, 2)["messages"][0]["class"] == "bounce"
    assert len(smtp_sink.received) == 1, "nothing to the return path is answered"
    assert bouncing(app) == []
    assert "is no bounce; nothing marked" in events(app, 1, "bounce")[0]


QMAIL = """\
From: MAILER-DAEMON@mx.customer.example
To: {to}
Subject: failure notice
Date: Mon, 23 Nov 2026 02:05:00 +0000
Message-ID: <qmail.1@mx.customer.example>

Hi. This is the qmail-send program at mx.customer.example.
I'm afraid I wasn't able to deliver your message to the following addresses.

<ann@customer.example>:
Sorry, no mailbox here by that name. (#5.1.1)
"""


def test_a_report_without_our_headers_finds_its_mail_by_the_return_path(acked, mailbox, smtp_sink):
    app, ack = acked()
    mailbox.deliver(QMAIL.format(to=return_path_of(smtp_sink, ack)).encode())
    cycle(app)
    assert show(app, 1)["messages"][-1]["class"] == "bounce"
    assert bouncing(app) == [ANN]
    assert events(app, 1, "bounce") == [
        f"{ANN} did not get our mail {ack['Message-ID']}: no delivery report"
    ]
