"""A rotated desk secret, end to end over IMAP, SMTP and the survey page: with
MAILDESK_SECRET changed from "A" to "B A", a reply to mail sent under A still threads,
a survey link sent under A still answers, and everything new is signed with B alone."""

import pytest

from maildesk.mail import ids, verp
from maildesk.mail.keys import Keys
from tests.conftest import SECRET, free_port, make_mail
from tests.desk.conftest import VERP
from tests.desk.sla.desk import agent_does
from tests.desk.survey.test_surveys import rating, run
from tests.desk.survey.test_web import PUBLIC, request, serving, survey_links
from tests.support import cycle, desk_toml, show, stats

NEW = "the-new-secret-after-rotation"
ANN, BOB = "ann@customer.example", "Bob <bob@customer.example>"
pytestmark = [
    pytest.mark.one_database(
        "keys sign and verify before the database; follow_up threads on both"
    ),
    pytest.mark.parametrize("database_kind", ["sqlite"]),
]


def test_after_a_rotation_old_mail_and_links_still_work_and_new_mail_is_signed_with_the_new(
    mailbox, smtp_sink, make_app, clock, monkeypatch
):
    port = free_port()
    extra = desk_toml() + VERP + f'[web]\nlisten = "127.0.0.1:{port}"\npublic_url = "{PUBLIC}"\n'
    before = make_app(mailbox, smtp_sink, extra=extra)
    mailbox.deliver(make_mail(subject="printer"))
    mailbox.deliver(make_mail(sender=BOB, subject="scanner"))
    cycle(before)
    (ack,) = [m for _, to, m in smtp_sink.received if to == [ANN]]
    agent_does(before, 2, "#resolve a new driver")
    clock.advance(days=1)
    run(before)
    cycle(before)
    old_link = survey_links(before)[-1][0].split("?")[0]

    monkeypatch.setenv("MAILDESK_SECRET", f"{NEW} {SECRET}")
    after = make_app(mailbox, smtp_sink, extra=extra)  # the restart, on the same database
    smtp_sink.received.clear()
    mailbox.deliver(
        make_mail(
            subject="more on this",  # no tag: only our Message-ID can thread it
            body="It jams again.",
            In_Reply_To=ack["Message-ID"],
            References=ack["Message-ID"],
        )
    )
    cycle(after)

    assert stats(after)["tickets"] == 2, "the reply opened no ticket"
    assert "It jams again." in [m["text"] for m in show(after, 1)["messages"]]
    assert smtp_sink.received, "the assignee heard of the reply"
    for sender, envelope, mail in smtp_sink.received:
        assert ids.signed(Keys((NEW,)), mail["Message-ID"]) is not None
        assert ids.signed(Keys((SECRET,)), mail["Message-ID"]) is None
        token = verp.found("bounces@desk.example", [sender])
        assert token is not None and verp.checks(Keys((NEW,)), token, envelope)
        assert not verp.checks(Keys((SECRET,)), token, envelope)
    with serving(after):
        status, page = request(port, "POST", old_link, {"score": "5"})
    assert status == 200 and "with 5 of 5" in page
    assert rating(after, 2)[0] == 5
