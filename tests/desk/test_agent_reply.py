"""Agents answer by replying: commands, relayed answers and the proof of who sent them.

End to end over Dovecot and aiosmtpd, on both databases: a customer writes,
Lin (the assignee) gets the notification and replies to it.
"""

import pytest
from sqlalchemy import select

from maildesk.store import db
from maildesk.store.tables import Ticket
from tests.conftest import make_mail
from tests.support import cycle, desk_toml, events, show

LIN = "Lin <lin@desk.example>"
AUTH = """
[agent_mail]
require_authentication_results = true
authserv_id = "mx.desk.example"
"""


@pytest.fixture
def desk(mailbox, smtp_sink, make_app):
    """A desk with ticket 1 open, assigned to Lin, her notification in hand."""

    def start(extra: str = ""):
        app = make_app(mailbox, smtp_sink, extra=desk_toml() + extra)
        mailbox.deliver(make_mail(sender="Ann <ann@customer.example>", subject="printer"))
        cycle(app)
        (notice,) = [m for m in smtp_sink.messages if m["To"] == "lin@desk.example"]
        smtp_sink.received.clear()
        return app, notice

    return start


def reply(notice, body: str, sender: str = LIN, **headers: str):
    """An agent's reply to `notice` as a mail client writes it (history quoted below)."""
    quoted = "\n".join(f"> {line}" for line in notice.get_content().splitlines()[:3])
    fields = {"In_Reply_To": notice["Message-ID"], "References": notice["Message-ID"]} | headers
    text = f"{body}\n\nOn Mon, 23 Nov 2026, Test Support wrote:\n{quoted}\n"
    return make_mail(sender=sender, subject=f"Re: {notice['Subject']}", body=text, **fields)


def to_customer(sink) -> list:
    return [m for m in sink.messages if m["To"] == "ann@customer.example"]


def answers(sink) -> list:
    """What agents wrote to the customer (not the desk's status updates)."""
    return [m for m in to_customer(sink) if " via " in m["From"]]


def updates(sink) -> list:
    return [m for m in to_customer(sink) if " via " not in m["From"]]


def to_agent(sink, address: str = "lin@desk.example") -> list:
    return [m for m in sink.messages if m["To"] == address]


def test_a_reply_is_relayed_in_the_agents_name_and_its_commands_applied(desk, mailbox, smtp_sink):
    app, notice = desk()
    mailbox.deliver(reply(notice, "#status pending\n#priority P1\n\nPlease send us the log."))
    cycle(app)

    (answer,) = answers(smtp_sink)
    assert answer["From"] == "Lin via Test Support <support@desk.example>"
    assert answer["Subject"] == "[Ticket#1] Re: printer"
    assert answer["In-Reply-To"] == show(app, 1)["messages"][0]["message_id"]
    assert answer.get_content().strip() == "Please send us the log.", "no commands, no history"
    assert "Auto-Submitted" not in answer, "a person's answer, not an automatic reply"
    detail = show(app, 1)
    assert (detail["status"], detail["priority"]) == ("pending", "P1")
    assert events(app, 1, "status") == ["open -> pending"]
    (applied,) = events(app, 1, "commands")
    assert "#status pending; #priority P1" in applied and notice["Message-ID"] not in applied
    with db.transaction(app.sessions) as session:
        ticket = session.scalar(select(Ticket))
        assert ticket.first_response_at is not None, "the first response"
    (update,) = updates(smtp_sink)
    assert update["Subject"] == "[Ticket#1] Waiting for your reply: printer"
    assert update["Auto-Submitted"] == "auto-generated"


def test_chinese_commands_resolve_with_a_summary(desk, mailbox, smtp_sink):
    app, notice = desk()
    mailbox.deliver(reply(notice, "#优先级 紧急\n#解决 更换了墨盒\n\n已经修好了，请再试一下。"))
    cycle(app)
    detail = show(app, 1)
    assert (detail["status"], detail["priority"]) == ("resolved", "P0")
    assert events(app, 1, "resolution") == ["更换了墨盒"]
    (answer,) = answers(smtp_sink)
    assert answer.get_content().strip() == "已经修好了，请再试一下。"
    (update,) = updates(smtp_sink)
    assert update["Subject"] == "[Ticket#1] Resolved: printer"
    assert "What we did: 更换了墨盒" in update.get_content()
    assert "reply to this mail and the ticket opens again" in update.get_content()


PDF = b"%PDF-1.7\n" + bytes(range(256)) * 64 + b"\n%%EOF\n"
MANUAL = "第一步：关掉打印机。\n".encode("gbk") + b"\x00\xff" * 100


def test_the_agents_files_reach_the_customer_intact(desk, mailbox, smtp_sink):
    app, notice = desk()
    mail = reply(notice, "Here are the invoice and the manual.")
    mail.add_attachment(PDF, maintype="application", subtype="pdf", filename="invoice.pdf")
    mail.add_attachment(
        MANUAL, maintype="application", subtype="octet-stream", filename="打印机说明书.txt"
    )
    mailbox.deliver(mail)
    cycle(app)

    (answer,) = to_customer(smtp_sink)
    assert answer["From"] == "Lin via Test Support <support@desk.example>"
    assert answer.get_body(("plain",)).get_content().strip() == (
        "Here are the invoice and the manual."
    )
    files = [
        (part.get_filename(), part.get_content_type(), part.get_payload(decode=True))
        for part in answer.iter_attachments()
    ]
    assert files == [
        ("invoice.pdf", "application/pdf", PDF),
        ("打印机说明书.txt", "application/octet-stream", MANUAL),
    ]


def test_one_bad_line_changes_nothing_relays_nothing_and_tells_the_agent(desk, mailbox, smtp_sink):
    app, notice = desk()
    mailbox.deliver(reply(notice, "#priority P1\n#status maybe\n\nDone!"))
    cycle(app)
    assert show(app, 1)["priority"] == "P2" and show(app, 1)["status"] == "open"
    assert to_customer(smtp_sink) == []
    (error,) = to_agent(smtp_sink)
    assert "#status maybe" in error.get_content()
    assert events(app, 1, "command_refused")


def test_a_note_stays_internal_and_assign_hands_the_ticket_over(desk, mailbox, smtp_sink):
    app, notice = desk()
    mailbox.deliver(reply(notice, "#note\n#assign Wang\n\nWang knows this printer."))
    cycle(app)
    assert to_customer(smtp_sink) == [], "#note never reaches the customer"
    assert events(app, 1, "note") == ["Wang knows this printer."]
    assert show(app, 1)["assignee"] == "wang@desk.example"


def test_help_answers_the_agent(desk, mailbox, smtp_sink):
    app, notice = desk()
    mailbox.deliver(reply(notice, "#help"))
    cycle(app)
    (help_mail,) = to_agent(smtp_sink)
    assert "#status" in help_mail.get_content() and "#状态" in help_mail.get_content()
    assert to_customer(smtp_sink) == []


def test_the_same_reply_seen_twice_is_applied_once(desk, mailbox, smtp_sink):
    app, notice = desk()
    mail = reply(notice, "#priority P1\n\nOn it.")
    mailbox.deliver(mail)
    cycle(app)
    mailbox.deliver(b"X-Copy: from another folder\r\n" + mail.as_bytes())
    cycle(app)
    assert len(events(app, 1, "commands")) == 1
    assert len(answers(smtp_sink)) == 1


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda n: {"In_Reply_To": "", "References": ""}, id="no-reference"),
        pytest.param(
            lambda n: dict.fromkeys(
                ("In_Reply_To", "References"), n["Message-ID"].replace("<md.1.", "<md.1.0")
            ),
            id="bad-hmac",
        ),
    ],
)
def test_a_forged_from_is_kept_as_mail_not_applied(forge, desk, mailbox, smtp_sink):
    app, notice = desk()
    forged = reply(notice, "#status closed\n\nClosing this.", **forge(notice))
    mailbox.deliver(forged)
    cycle(app)
    assert show(app, 1)["status"] == "open" and to_customer(smtp_sink) == []
    assert events(app, 1, "agent_mail_refused"), "the refusal is on the ticket"
    (warning,) = to_agent(smtp_sink)
    assert "was not applied as your reply" in warning.get_content()
    mailbox.deliver(reply(notice, "#status closed", **forge(notice)))
    cycle(app)
    assert len(to_agent(smtp_sink)) == 1, "one notice an hour"


def test_a_reply_to_another_agents_notification_is_refused(desk, mailbox, smtp_sink):
    app, notice = desk()
    mailbox.deliver(reply(notice, "#status closed", sender="Wang <wang@desk.example>"))
    cycle(app)
    assert show(app, 1)["status"] == "open"
    assert events(app, 1, "agent_mail_refused")


def test_a_forged_agent_mail_on_a_resolved_ticket_changes_nothing(desk, mailbox, smtp_sink):
    """Anyone can write Lin's From and the subject tag: kept on the ticket, refused as
    hers, and it reopens nothing (a customer changes their own ticket only)."""
    app, notice = desk()
    mailbox.deliver(reply(notice, "#resolve fixed"))
    cycle(app)
    assert show(app, 1)["status"] == "resolved"
    forged = make_mail(sender=LIN, subject="Re: [Ticket#1] printer", body="#reopen\nagain")
    mailbox.deliver(forged)
    cycle(app)
    detail = show(app, 1)
    assert detail["status"] == "resolved"
    assert forged["Message-ID"] in [m["message_id"] for m in detail["messages"]]
    assert events(app, 1, "agent_mail_refused") and not events(app, 1, "reopened")


@pytest.mark.parametrize(
    ("results", "applied"),
    [
        ("mx.desk.example; dkim=pass header.d=desk.example", True),
        ("mx.desk.example; spf=pass smtp.mailfrom=lin@desk.example", True),
        ("mx.desk.example; dkim=fail header.d=desk.example; spf=softfail", False),
        ("mx.attacker.example; dkim=pass header.d=desk.example", False),
    ],
    ids=["dkim-pass", "spf-pass", "fail", "other-server"],
)
def test_authentication_results_of_our_server_must_vouch(
    results, applied, desk, mailbox, smtp_sink
):
    app, notice = desk(AUTH)
    mailbox.deliver(reply(notice, "#priority P1\n\nOn it.", Authentication_Results=results))
    cycle(app)
    assert (show(app, 1)["priority"] == "P1") is applied
    assert bool(answers(smtp_sink)) is applied


def test_tags_are_kept_on_the_ticket(desk, mailbox, smtp_sink):
    app, notice = desk()
    mailbox.deliver(reply(notice, "#tag printer hardware\n#标签 紧急\n#note"))
    cycle(app)
    assert show(app, 1)["tags"] == ["hardware", "printer", "紧急"]


def test_merge_moves_the_mail_and_a_later_reply_lands_on_the_survivor(desk, mailbox, smtp_sink):
    app, notice = desk()
    mailbox.deliver(make_mail(sender="Ann <ann@customer.example>", subject="printer again"))
    cycle(app)
    smtp_sink.received.clear()
    mailbox.deliver(reply(notice, "#merge 2\n#note"))
    cycle(app)

    merged, survivor = show(app, 1), show(app, 2)
    assert merged["merged_into"] == 2 and merged["status"] == "closed"
    assert [m["subject"] for m in survivor["messages"] if m["direction"] == "in"][:2] == [
        "printer",
        "printer again",
    ]
    (told,) = updates(smtp_sink)
    assert told["Subject"] == "[Ticket#1] Now [Ticket#2]: printer"
    mailbox.deliver(
        make_mail(sender="Ann <ann@customer.example>", subject="Re: [Ticket#1] printer")
    )
    cycle(app)
    incoming = [m["subject"] for m in show(app, 2)["messages"] if m["direction"] == "in"]
    assert incoming[-1] == "Re: [Ticket#1] printer"
    assert len(updates(smtp_sink)) == 1, "told the new number once"


def test_merge_into_itself_or_a_missing_ticket_is_refused(desk, mailbox, smtp_sink):
    app, notice = desk()
    mailbox.deliver(reply(notice, "#merge 1"))
    mailbox.deliver(reply(notice, "#merge 99"))
    cycle(app)
    assert show(app, 1)["merged_into"] is None
    assert [m.get_content().count("#merge") > 0 for m in to_agent(smtp_sink)] == [True, True]


def test_a_customer_writing_on_a_closed_ticket_opens_a_new_one_linked_to_it(
    desk, mailbox, smtp_sink
):
    app, notice = desk()
    mailbox.deliver(reply(notice, "#close\n#note"))
    cycle(app)
    mailbox.deliver(
        make_mail(sender="Ann <ann@customer.example>", subject="Re: [Ticket#1] printer")
    )
    cycle(app)
    assert show(app, 1)["status"] == "closed"
    assert events(app, 2, "follows") == ["#1"] and events(app, 1, "followed_by") == ["#2"]


def test_cc_copies_people_on_the_answer_but_never_the_desk_or_an_agent(desk, mailbox, smtp_sink):
    app, notice = desk()
    ack = [m for m in show(app, 1)["messages"] if m["direction"] == "out"][0]["message_id"]
    first = make_mail(
        sender="Ann <ann@customer.example>",
        subject="Re: [Ticket#1] printer",
        Cc="carol@customer.example, support@desk.example, wang@desk.example",
        In_Reply_To=ack,
        References=ack,
    )
    mailbox.deliver(first)
    cycle(app)
    smtp_sink.received.clear()
    mailbox.deliver(
        reply(notice, "#cc bob@customer.example\n#抄送 dave@customer.example\n\nHere.")
    )
    cycle(app)

    (answer,) = answers(smtp_sink)
    copied = ["carol@customer.example", "bob@customer.example", "dave@customer.example"]
    assert answer["Cc"] == ", ".join(copied)
    (envelope,) = [rcpt for _, rcpt, m in smtp_sink.received if " via " in m["From"]]
    assert envelope == ["ann@customer.example", *copied]
    assert events(app, 1, "cc") == ["bob@customer.example", "dave@customer.example"]


def test_escalate_tells_the_teams_lead_with_the_reason(desk, mailbox, smtp_sink):
    app, notice = desk()
    mailbox.deliver(reply(notice, "#升级 客户是大客户，需要主管处理\n#note"))
    cycle(app)
    (escalation,) = to_agent(smtp_sink, "boss@desk.example")
    assert escalation["Subject"].startswith("[Ticket#1] Escalated to you (P2)")
    assert "客户是大客户，需要主管处理" in escalation.get_content()
    assert events(app, 1, "escalated") == ["客户是大客户，需要主管处理"]
    assert show(app, 1)["status"] == "open" and to_customer(smtp_sink) == []
