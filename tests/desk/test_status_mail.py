"""status_mail.py: which moves of a ticket the customer hears of, in their language,
threaded on the ticket and through the gate of automatic mail.

Ticket 1 of tests/desk/test_agent_reply.py's desk (Ann's, open, Lin's); the commands as
an agent gives them (actions.execute), the mail as aiosmtpd receives it, both databases.
The merged notice and the summary quoted on resolving are in test_agent_reply.py, the
notice of a ticket closed by the survey sweep in tests/desk/survey/test_surveys.py.
"""

from tests.conftest import make_mail
from tests.desk import test_agent_reply as agent_tests
from tests.desk.sla.desk import agent_does
from tests.desk.test_agent_reply import updates
from tests.support import cycle, desk_toml, events, show

desk = agent_tests.desk  # the fixture: ticket 1 open, Lin's notification in hand

MOVES = [
    ("#status pending", "Waiting for your reply"),
    ("#status open", "Reopened"),  # back to open from a state she was told of
    ("#status open", None),  # no move at all
    ("#priority P1\n#team billing", None),  # not her concern
    ("#resolve new toner", "Resolved"),
    ("#close", "Closed"),
    ("#reopen", "Reopened"),
]


def test_the_customer_hears_of_each_move_into_or_back_from_pending_resolved_closed(
    desk, mailbox, smtp_sink
):
    app, _notice = desk()
    for commands, _told in MOVES:
        agent_does(app, 1, f"{commands}\n#note")
        cycle(app)
    subjects = [m["Subject"] for m in updates(smtp_sink)]
    assert subjects == [f"[Ticket#1] {told}: printer" for _, told in MOVES if told]
    customer_ids = [m["message_id"] for m in show(app, 1)["messages"] if m["direction"] == "in"]
    last = updates(smtp_sink)[-1]
    assert last["To"] == "ann@customer.example" and last["Auto-Submitted"] == "auto-generated"
    assert "In-Reply-To" not in last, "it answers no mail"
    assert set(customer_ids) <= set(last["References"].split()), "threaded on her mail"


def test_a_chinese_ticket_hears_in_chinese_with_the_summary(mailbox, smtp_sink, make_app):
    app = make_app(mailbox, smtp_sink, extra=desk_toml())
    mailbox.deliver(make_mail(subject="打印机坏了", body="打印机无法打印，请帮忙看看。"))
    cycle(app)
    smtp_sink.received.clear()
    agent_does(app, 1, "#解决 更换了墨盒\n#note")
    cycle(app)
    (update,) = [m for m in smtp_sink.messages if m["To"] == "ann@customer.example"]
    assert update["Subject"] == "[Ticket#1] 已解决：打印机坏了"
    assert "处理结果：更换了墨盒" in update.get_content()


def test_a_no_reply_customer_is_told_nothing_and_the_ticket_says_why(mailbox, smtp_sink, make_app):
    app = make_app(mailbox, smtp_sink, extra=desk_toml())
    mailbox.deliver(make_mail(sender="noreply@shop.example", subject="order export failed"))
    cycle(app)
    agent_does(app, 1, "#resolve re-ran the export\n#note")
    cycle(app)
    assert show(app, 1)["status"] == "resolved"
    assert [m for m in smtp_sink.messages if m["To"] == "noreply@shop.example"] == []
    assert events(app, 1, "auto_reply_suppressed")[-1] == (
        "status_update not sent: noreply@shop.example is a no-reply address"
    )
