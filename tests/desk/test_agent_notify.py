"""Routing and agent notifications, end to end over Dovecot and aiosmtpd, on both databases.

A new ticket goes to a team and inside it to an agent; the assignee (else the
team, else the leads) gets a notification with the customer's words, the
ticket's facts and history, bound to them by its signed Message-ID.
"""

from maildesk.desk import agent_notify
from maildesk.mail import ids
from maildesk.mail.message import Part
from maildesk.store import db
from maildesk.store.tables import Status, Ticket
from tests.conftest import KEYS, SECRET, make_mail
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
    assert "Due: first response by 2026-11-23 12:00 CST, resolution by 2026-11-23 18:00 CST." in (
        body
    ), "P2 at Monday 10:00: 2 and 8 working hours"
    assert ids.signed(KEYS, first["Message-ID"]) == ids.Signed(
        1, ids.recipient_tag(SECRET, "lin@desk.example")
    ), "bound to this ticket and this agent"


def test_a_mail_that_is_all_quote_reaches_the_agent_as_its_full_text(mailbox, smtp_sink, make_app):
    app = make_app(mailbox, smtp_sink, extra=desk_toml())
    mailbox.deliver(customer(1, body="> The badge reader at gate 4 rejects every card.\n"))
    cycle(app)
    (sent,) = notifications(smtp_sink)
    assert "> The badge reader at gate 4 rejects every card." in sent.get_content()


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
    text = follow_up.get_body(("plain",)).get_content()
    assert "More details: it happens every morning." in text and "app.log" in text
    assert [(a.get_filename(), a.get_content()) for a in follow_up.iter_attachments()] == [
        ("app.log", "log line\n")
    ], "the customer's file comes along"
    assert "#1 [open] question 7" in new.get_content(), "the customer's earlier ticket"


def _files(mail) -> list[tuple[str, str, bytes]]:
    return [
        (part.get_filename(), part.get_content_type(), part.get_payload(decode=True))
        for part in mail.iter_attachments()
    ]


def test_the_notification_carries_the_files_and_names_those_too_large(
    mailbox, smtp_sink, make_app
):
    app = make_app(
        mailbox, smtp_sink, extra=desk_toml() + "\n[intake]\nmax_attachment_bytes = 4096\n"
    )
    photo = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
    dump = b"\x00" * 5000
    mail = customer(1, body="See the photo and the dump.")
    mail.add_attachment(photo, maintype="image", subtype="png", filename="打印机.png")
    mail.add_attachment(dump, maintype="application", subtype="octet-stream", filename="core.dump")
    mailbox.deliver(mail)
    cycle(app)

    (notice,) = notifications(smtp_sink)
    assert _files(notice) == [("打印机.png", "image/png", photo)], "only what fits"
    lines = notice.get_body(("plain",)).get_content().splitlines()
    assert "  - 打印机.png" in lines
    assert f"  - core.dump {agent_notify.NOT_ATTACHED}" in lines
    assert events(app, 1, "attachment_rejected") == ["core.dump"], "intake kept it out too"


def test_a_mail_without_files_gives_a_single_part_notification(mailbox, smtp_sink, make_app):
    app = make_app(mailbox, smtp_sink, extra=desk_toml())
    mailbox.deliver(customer(1))
    cycle(app)
    (notice,) = notifications(smtp_sink)
    assert notice.get_content_type() == "text/plain" and _files(notice) == []


def _part(name: str, size: int) -> Part:
    return Part(filename=name, content_type="application/octet-stream", data=b"x" * size)


def test_the_budget_counts_each_file_and_the_mail_in_all():
    parts = [_part("a", 40), _part("big", 60), _part("b", 50), _part("c", 20), _part("d", 1)]
    attached, left_out = agent_notify.within_budget(parts, each=50, total=100)
    assert [a.filename for a in attached] == ["a", "b", "d"]
    assert left_out == {1, 3}, "big is over 50; c would take the mail past 100"
