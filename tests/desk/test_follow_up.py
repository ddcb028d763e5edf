"""follow_up.py: which ticket a mail continues, over Dovecot and aiosmtpd on both databases.

Ann has tickets 1 and 2, each with our acknowledgement in her hands. Threading by
one header or by the tag, a stranger's tag, bounces and our own looped mail are in
tests/intake/test_end_to_end.py and the corpus (tests/mail/corpus/expected.toml).
"""

import pytest

from tests.conftest import make_mail
from tests.desk.sla.desk import agent_does
from tests.support import cycle, show, stats

BOB = "Bob <bob@other.example>"


def desk(mailbox, smtp_sink, make_app, tickets: int = 2):
    """Ann's tickets 1..`tickets`: the app, her mails and our acks to them, by number."""
    app = make_app(mailbox, smtp_sink)
    mails = [make_mail(subject=f"question {n}") for n in range(1, tickets + 1)]
    mailbox.deliver(*mails)
    cycle(app)
    acks = {int(m["Subject"].split("#")[1].split("]")[0]): m for m in smtp_sink.messages}
    return app, dict(enumerate(mails, 1)), acks


def on(app, number: int, text: str) -> bool:
    return text in [m["text"] for m in show(app, number)["messages"] if m["direction"] == "in"]


@pytest.mark.parametrize(
    ("in_reply_to", "references", "lands_on"),
    [(2, [1], 2), (None, [2, 1], 1), (None, [1, 2], 2)],
    ids=["in-reply-to-first", "newest-reference", "newest-reference-last"],
)
def test_the_mail_answered_counts_first_then_the_newest_reference(
    in_reply_to, references, lands_on, mailbox, smtp_sink, make_app
):
    app, _mails, acks = desk(mailbox, smtp_sink, make_app)
    headers = {"References": " ".join(acks[n]["Message-ID"] for n in references)}
    if in_reply_to:
        headers["In_Reply_To"] = acks[in_reply_to]["Message-ID"]
    mailbox.deliver(make_mail(subject="no tag here", body="Which one?", **headers))
    cycle(app)
    assert on(app, lands_on, "Which one?") and not on(app, 3 - lands_on, "Which one?")
    assert stats(app)["tickets"] == 2


def test_a_reply_to_a_mail_we_stored_continues_it_and_its_sender_may_use_the_tag(
    mailbox, smtp_sink, make_app
):
    app, mails, _acks = desk(mailbox, smtp_sink, make_app, tickets=1)
    anns = mails[1]["Message-ID"]  # not ours: the customer's own mail, as we stored it
    mailbox.deliver(
        make_mail(sender=BOB, subject="Re: question 1", body="Me too.", References=anns)
    )
    cycle(app)
    mailbox.deliver(make_mail(sender=BOB, subject="Re: [Ticket#1] question 1", body="Any news?"))
    cycle(app)
    assert on(app, 1, "Me too.") and on(app, 1, "Any news?")
    assert stats(app)["tickets"] == 1, "Bob wrote on the ticket: his tag counts"


def test_automatic_mail_trusts_the_tag_and_a_tag_of_no_ticket_opens_one(
    mailbox, smtp_sink, make_app
):
    app, _mails, _acks = desk(mailbox, smtp_sink, make_app, tickets=1)
    away = make_mail(
        sender=BOB,
        subject="Automatic reply: [Ticket#1] question 1",
        body="I am away until Monday.",
        Auto_Submitted="auto-replied",
    )
    mailbox.deliver(away, make_mail(subject="Re: [Ticket#7] question 7", body="Seven?"))
    cycle(app)
    assert on(app, 1, "I am away until Monday.")
    assert stats(app)["tickets"] == 2 and on(app, 2, "Seven?")


def test_replies_to_a_merged_ticket_follow_the_merges_to_the_last_survivor(
    mailbox, smtp_sink, make_app
):
    app, _mails, acks = desk(mailbox, smtp_sink, make_app, tickets=3)
    agent_does(app, 1, "#merge 2\n#note")
    agent_does(app, 2, "#merge 3\n#note")
    by_header = make_mail(
        subject="Re: question 1", body="By header.", In_Reply_To=acks[1]["Message-ID"]
    )
    by_tag = make_mail(subject="Re: [Ticket#1] question 1", body="By tag.")
    mailbox.deliver(by_header, by_tag)
    cycle(app)
    assert on(app, 3, "By header.") and on(app, 3, "By tag.")
    assert (show(app, 1)["merged_into"], show(app, 2)["merged_into"]) == (2, 3)
