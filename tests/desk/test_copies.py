"""Issue #17, class 4: only the customer's proven mail, or an agent's #cc, widens who is
copied on the answers.

End to end over Dovecot and aiosmtpd on both databases: Ann opens ticket 1 with Cc's,
someone writes as Ann with the subject tag alone, Lin answers.
"""

from tests.conftest import make_mail
from tests.desk.test_agent_reply import answers, reply
from tests.support import cycle, desk_toml, events, show

ANN = "Ann <ann@customer.example>"
CAROL, BOB, MALLORY = "carol@customer.example", "bob@customer.example", "mallory@evil.example"
NOT_COPIED = "Cc'd but not copied on answers (the mail does not answer ours to the customer"


def envelopes_of_answers(sink) -> list[list[str]]:
    return [to for _, to, m in sink.received if " via " in m["From"]]


def test_cc_of_mail_that_answers_nothing_of_ours_to_the_customer_is_not_copied(
    mailbox, smtp_sink, make_app
):
    app = make_app(mailbox, smtp_sink, extra=desk_toml())
    mailbox.deliver(make_mail(sender=ANN, subject="printer", Cc=f"{CAROL}, {BOB}"))
    cycle(app)
    (ack,) = [m for _, to, m in smtp_sink.received if to == ["ann@customer.example"]]
    (new,) = [m for _, to, m in smtp_sink.received if to == ["lin@desk.example"]]
    assert f"{NOT_COPIED}; #cc ADDRESS copies them): {CAROL}, {BOB}" in new.get_content()
    forged = make_mail(sender=ANN, subject="Re: [Ticket#1] printer", Cc=MALLORY)
    mailbox.deliver(forged)
    cycle(app)
    notice = [m for _, to, m in smtp_sink.received if to == ["lin@desk.example"]][-1]
    assert f"copies them): {MALLORY}" in notice.get_content()
    assert events(app, 1, "cc_not_copied") == [
        f"{CAROL}, {BOB} (the mail does not answer ours to the customer)",
        f"{MALLORY} (the mail does not answer ours to the customer)",
    ]
    mailbox.deliver(reply(notice, "Which model is it?"))
    cycle(app)
    assert envelopes_of_answers(smtp_sink) == [["ann@customer.example"]], "nobody copied"

    mailbox.deliver(make_mail(sender=CAROL, subject="Re: [Ticket#1] printer", body="Me too."))
    cycle(app)
    assert [m["from"] for m in show(app, 1)["messages"]].count(CAROL) == 1, (
        "an uncopied Cc still takes part: her tagged mail joins the ticket"
    )
    (answer,) = answers(smtp_sink)
    proven = make_mail(
        sender=ANN,
        subject=f"Re: {answer['Subject']}",
        body="An HP 4000.",
        Cc=f"{CAROL}, {MALLORY}",
        In_Reply_To=answer["Message-ID"],
        References=f"{ack['Message-ID']} {answer['Message-ID']}",
    )
    mailbox.deliver(proven)
    cycle(app)
    assert len(events(app, 1, "cc_not_copied")) == 2, "her proven mail copies its Cc's"
    mailbox.deliver(reply(notice, f"#cc {BOB}\n\nThanks, a new toner is on its way."))
    cycle(app)

    assert envelopes_of_answers(smtp_sink)[-1] == ["ann@customer.example", CAROL, BOB, MALLORY]
    assert answers(smtp_sink)[-1]["Cc"] == f"{CAROL}, {BOB}, {MALLORY}", "in the order they came"


def test_a_forged_customer_mail_cannot_copy_anyone_even_quoting_a_mail_to_several(
    mailbox, smtp_sink, make_app
):
    app = make_app(mailbox, smtp_sink, extra=desk_toml())
    mailbox.deliver(make_mail(sender=ANN, subject="printer"))
    cycle(app)
    (notice,) = [m for _, to, m in smtp_sink.received if to == ["lin@desk.example"]]
    mailbox.deliver(reply(notice, f"#cc {CAROL}\n\nLooking into it."))
    cycle(app)
    (copied,) = answers(smtp_sink)  # to Ann and Carol: bound to neither
    assert copied["To"] == "ann@customer.example" and copied["Cc"] == CAROL
    forged = make_mail(
        sender=ANN,
        subject=f"Re: {copied['Subject']}",
        Cc=MALLORY,
        In_Reply_To=copied["Message-ID"],
        References=copied["References"] + " " + copied["Message-ID"],
    )
    mailbox.deliver(forged)
    cycle(app)
    mailbox.deliver(reply(notice, "Fixed."))
    cycle(app)
    assert envelopes_of_answers(smtp_sink)[-1] == ["ann@customer.example", CAROL]
    assert events(app, 1, "cc_not_copied") == [
        f"{MALLORY} (the mail does not answer ours to the customer)"
    ]
