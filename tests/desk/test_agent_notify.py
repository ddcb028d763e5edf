"""Routing and agent notifications, end to end over Dovecot and aiosmtpd, on both databases.

A new ticket goes to a team and inside it to an agent; the assignee (else the
team, else the leads) gets a notification with the customer's words, the
ticket's facts and history, bound to them by its signed Message-ID.
"""

from maildesk.mail import ids
from maildesk.store import db
from maildesk.store.tables import Status, Ticket
from tests.conftest import SECRET, make_mail
from tests.support import cycle, desk_toml, events, show


def notifications(sink) -> list:
    return [m for m in sink.messages if m["To"] and not m["To"].startswith("c")]


def customer(n: int, **fields: str):
    return make_mail(sender=f"c{n}@customer.example", subject=f"question {n}", **fields)


def test_round_robin_assigns_in_turn_and_notifies_the_assignee_only(mailbox, smtp_sink, make_app):
    app = make_app(mailbox, smtp_sink, extra=desk_toml())
    for n in range(3):
        mailbox.deliver(customer(n, body=f"words of customer {n}"))
    cycle(app)

    assert [show(app, n)["assignee"] for n in (1, 2, 3)] == [
        "lin@desk.example",
        "wang@desk.example",
        "lin@desk.example",
    ]
    assert events(app, 2, "assigned") == ["nobody -> wang@desk.example"]
    sent = notifications(smtp_sink)
    assert [m["To"] for m in sent] == ["lin@desk.example", "wang@desk.example", "lin@desk.example"]
    first = sent[0]
    assert first["Subject"] == "[Ticket#1] New (P2): question 0"
    assert "support@desk.example" in first["From"]
    body = first.get_content()
    assert (
        "words of customer 0" in body
        and "Priority P2" in body
        and "#assign" in body
        and "#指派" in body
    )
    assert ids.signed(SECRET, first["Message-ID"]) == ids.Signed(
        1, ids.recipient_tag(SECRET, "lin@desk.example")
    ), "bound to this ticket and this agent"


def test_least_open_gives_the_ticket_to_whoever_has_fewest_waiting(mailbox, smtp_sink, make_app):
    app = make_app(mailbox, smtp_sink, extra=desk_toml("least_open"))
    mailbox.deliver(customer(1), customer(2))
    cycle(app)
    with db.transaction(app.sessions) as session:  # Wang's ticket is done
        session.query(Ticket).filter(Ticket.number == 2).update({"status": Status.RESOLVED})
    mailbox.deliver(customer(3))
    cycle(app)
    assert [show(app, n)["assignee"] for n in (1, 2, 3)] == [
        "lin@desk.example",
        "wang@desk.example",
        "wang@desk.example",
    ]


def test_unassigned_goes_to_the_team_and_nobody_to_take_it_goes_to_the_leads(
    mailbox, smtp_sink, make_app
):
    app = make_app(mailbox, smtp_sink, extra=desk_toml("none"))
    mailbox.deliver(customer(1), customer(2, to="billing@desk.example"))
    cycle(app)

    assert show(app, 1)["team"] == "support" and show(app, 1)["assignee"] is None
    assert show(app, 2)["team"] == "billing", "the team whose address was written to"
    by_ticket = {}
    for mail in notifications(smtp_sink):
        by_ticket.setdefault(mail["Subject"].split()[0], []).append(mail)
    assert sorted(m["To"] for m in by_ticket["[Ticket#1]"]) == [
        "lin@desk.example",
        "wang@desk.example",
    ], "one mail each, each bound to its agent"
    (lead,) = by_ticket["[Ticket#2]"]
    assert lead["To"] == "boss@desk.example"
    assert "Nobody in a team takes this ticket" in lead.get_content()


def test_a_follow_up_notifies_the_assignee_with_history_and_attachments(
    mailbox, smtp_sink, make_app
):
    app = make_app(mailbox, smtp_sink, extra=desk_toml())
    mailbox.deliver(customer(7))
    cycle(app)
    ack = next(m for m in smtp_sink.messages if m["To"] == "c7@customer.example")
    again = make_mail(
        sender="c7@customer.example",
        subject=f"Re: {ack['Subject']}",
        body="More details: it happens every morning.",
        In_Reply_To=ack["Message-ID"],
    )
    again.add_attachment(b"log line\n", maintype="text", subtype="plain", filename="app.log")
    second = make_mail(sender="c7@customer.example", subject="another question")
    mailbox.deliver(again, second)
    smtp_sink.received.clear()
    cycle(app)

    follow_up, new = notifications(smtp_sink)
    assert follow_up["Subject"] == "[Ticket#1] Customer wrote (P2): question 7"
    text = follow_up.get_content()
    assert "More details: it happens every morning." in text and "app.log" in text
    assert "#1 [open] question 7" in new.get_content(), "the customer's earlier ticket"
