"""Every envelope address of every mail is one address we deliver to, not only acks'.

A customer whose From holds two addresses, or a quoted local part, is no
address at all: the ticket says so, nothing goes to it, and an agent who
answers is told. Real Dovecot in, aiosmtpd out (its envelopes recorded),
both databases.
"""

from maildesk.store import db
from maildesk.store.tables import Ticket
from tests.conftest import make_mail
from tests.desk.test_agent_reply import reply
from tests.intake.test_end_to_end import raw_mail
from tests.support import cycle, desk_toml, events, show

TWO = "Ann <ann@customer.example>, Victim <victim@target.test>"


def notice_to(sink, address: str = "lin@desk.example"):
    [notice] = [m for m in sink.messages if m["To"] == address]
    return notice


def test_an_answer_to_a_from_of_two_addresses_is_not_sent_and_the_agent_told(
    mailbox, smtp_sink, make_app
):
    app = make_app(mailbox, smtp_sink, extra=desk_toml())
    mailbox.deliver(raw_mail(TWO, subject="printer"))
    cycle(app)
    ticket = show(app, 1)
    assert ticket["customer"] == ""
    assert events(app, 1, "no_customer_address") == [
        "no customer address: the sender ann@customer.example, victim@target.test is not one"
        " we deliver to (more than one address); nothing is sent to it"
    ]
    notice = notice_to(smtp_sink)
    smtp_sink.received.clear()

    answer = reply(notice, "#priority P1\n\nHere is the fix.")
    mailbox.deliver(answer)
    cycle(app)

    assert [rcpts for _, rcpts, _ in smtp_sink.received] == [["lin@desk.example"]]
    [told] = smtp_sink.messages
    assert told["Subject"] == "[Ticket#1] Your answer was not sent"
    assert "was not sent to the customer: no address to send to" in told.get_content()
    assert told["In-Reply-To"] == answer["Message-ID"]
    assert events(app, 1, "mail_not_sent") == ["agent_reply not sent: no address to send to"]
    assert show(app, 1)["priority"] == "P1", "the commands still apply"
    with db.transaction(app.sessions) as session:
        assert session.get(Ticket, 1).first_response_at is None, "no answer reached anyone"


def test_a_cc_we_do_not_deliver_to_is_left_out_of_the_answer(mailbox, smtp_sink, make_app):
    app = make_app(mailbox, smtp_sink, extra=desk_toml())
    odd = '"odd,guy"@customer.example'
    mailbox.deliver(make_mail(subject="printer"))
    cycle(app)
    [ack] = [m for m in smtp_sink.messages if m["To"] == "ann@customer.example"]
    smtp_sink.received.clear()
    copied = f"{odd}, bob@customer.example"
    fields = {"In_Reply_To": ack["Message-ID"], "References": ack["Message-ID"]}
    mailbox.deliver(make_mail(subject=f"Re: {ack['Subject']}", Cc=copied, **fields))
    cycle(app)  # Ann answers our mail to her: her Cc's are copied (desk/copies.py)
    notice = notice_to(smtp_sink)
    smtp_sink.received.clear()
    mailbox.deliver(reply(notice, "Here is the fix."))
    cycle(app)
    [envelope] = [rcpts for _, rcpts, m in smtp_sink.received if " via " in m["From"]]
    assert envelope == ["ann@customer.example", "bob@customer.example"]
    assert events(app, 1, "cc_left_out") == [
        f"agent_reply: not an address we deliver to (a quoted local part): {odd}"
    ]


NIGHT = """
[[agents]]
email = "lin@desk.example"
name = "Lin"
team = "support"

[[agents]]
email = "night@localhost"
name = "Night shift"
team = "support"

[[teams]]
name = "support"
assign = "none"
"""


def test_a_staff_notice_to_an_address_we_do_not_deliver_to_is_not_queued(
    mailbox, smtp_sink, make_app
):
    app = make_app(mailbox, smtp_sink, extra=NIGHT)
    mailbox.deliver(make_mail(subject="printer"))
    cycle(app)
    envelopes = sorted(rcpts for _, rcpts, _ in smtp_sink.received)
    assert envelopes == [["ann@customer.example"], ["lin@desk.example"]]
    assert events(app, 1, "mail_not_sent") == [
        "agent_notification not sent: not an address we deliver to"
        " (a domain that is not a hostname): night@localhost"
    ]
