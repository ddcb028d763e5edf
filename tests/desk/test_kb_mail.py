"""The knowledge base by mail, end to end over Dovecot and aiosmtpd, on both databases:
suggestions in the acknowledgement, "solved" as self-service, `#kb`, `#kb publish`,
`#answer` counted as the first response, and the articles agents are shown."""

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from maildesk.desk import report
from maildesk.kb import articles, files
from maildesk.store import db
from maildesk.store.deadline_tables import Survey
from maildesk.store.kb_tables import ArticleUse
from maildesk.store.tables import Ticket
from tests.conftest import T0, make_mail
from tests.desk.test_agent_reply import answers, reply, to_agent, to_customer
from tests.support import cycle, desk_toml, events, show

PRINTER = """---
title: The printer shows as offline
locale: en
category: hardware
tags: [printer, offline]
status: published
---
Switch the printer off and on, then add it again under Settings > Printers.
Quote {{ tag }} if it still fails.
"""
PRINTER_ZH = """---
title: 打印机显示脱机
locale: zh
category: hardware
status: published
---
请重启打印机，并在“设置 > 打印机”中删除后重新添加。
"""


@pytest.fixture
def desk(mailbox, smtp_sink, make_app, tmp_path: Path):
    """A desk with two published articles (English, Chinese) and a draft."""
    app = make_app(mailbox, smtp_sink, extra=desk_toml())
    with db.transaction(app.sessions, write=True) as session:
        for text in (PRINTER, PRINTER_ZH):
            articles.add(session, files.parse(text, "test.md"), "cli", app.clock())
        draft = files.ArticleText("Toner", "en", "Order toner from the portal.")
        articles.add(session, draft, "cli", app.clock())
    return app


def report_of(app) -> dict:
    """`report --json` over the day of the tests."""
    with db.transaction(app.sessions) as session:
        return report.figures(session, app.desk(), T0.date(), T0.date() + timedelta(days=1))


def uses(app) -> list[tuple[int, int, str]]:
    with db.transaction(app.sessions) as session:
        rows = session.execute(
            select(ArticleUse.article_id, ArticleUse.ticket_id, ArticleUse.kind)
        )
        return sorted(tuple(r) for r in rows)


def test_the_ack_suggests_the_article_and_solved_resolves_it_as_self_service(
    desk, mailbox, smtp_sink
):
    mailbox.deliver(
        make_mail(subject="printer offline", body="Our printer is offline, nothing prints."),
        make_mail(sender="bob@customer.example", subject="canteen", body="Is it open Sunday?"),
        make_mail(
            sender="li@customer.example", subject="打印机脱机", body="打印机脱机了，无法打印"
        ),
    )
    cycle(desk)

    ack, plain, chinese = (to_customer(smtp_sink)[0], *[
        m for m in smtp_sink.messages if m["To"] in ("bob@customer.example", "li@customer.example")
    ])  # fmt: skip
    text = ack.get_content()
    assert "== The printer shows as offline ==" in text and "Quote [Ticket#1] if" in text
    assert 'reply "solved"' in text
    assert "may already answer" not in plain.get_content(), "nothing matches: no suggestion"
    assert "== 打印机显示脱机 ==" in chinese.get_content() and "已解决" in chinese.get_content()
    assert "printer shows as offline" not in chinese.get_content(), "the customer's language"
    (notice,) = to_agent(smtp_sink)[:1]
    assert "1. The printer shows as offline (the-printer-shows-as-offline, match" in (
        notice.get_content()
    )

    smtp_sink.received.clear()
    mailbox.deliver(make_mail(subject=f"Re: {ack['Subject']}", body="Solved, thanks!\n\n> quoted"))
    cycle(desk)

    detail = show(desk, 1)
    assert detail["status"] == "resolved"
    assert events(desk, 1, "self_service") == ["articles 1"]
    assert {c["clock"]: c["state"] for c in detail["sla"]} == {
        "first_response": "met",
        "resolution": "met",
    }
    met = {e["clock"]: e["detail"] for e in detail["sla_ledger"] if e["kind"] == "met"}
    assert met == {"first_response": "self-service", "resolution": "self-service"}
    assert smtp_sink.messages == [], "no agent notice, no status mail, no second ack"
    assert uses(desk) == [(1, 1, "accepted"), (1, 1, "suggested"), (2, 3, "suggested")]
    with db.transaction(desk.sessions) as session:
        assert session.scalar(select(Survey.state).where(Survey.ticket_id == 1)) == "scheduled"
    figures = report_of(desk)
    assert figures["self_service"] == {"tickets": 1, "suggested": 2, "rate": 0.5}
    assert figures["articles_used"]["accepted"] == 1


def test_solved_on_a_ticket_without_suggestions_is_an_ordinary_follow_up(desk, mailbox, smtp_sink):
    mailbox.deliver(make_mail(subject="canteen", body="Is the canteen open on Sunday?"))
    cycle(desk)
    (ack,) = to_customer(smtp_sink)
    smtp_sink.received.clear()
    text = "Solved, it is. But now our printer is offline and prints nothing."
    mailbox.deliver(make_mail(subject=f"Re: {ack['Subject']}", body=text))
    cycle(desk)
    assert show(desk, 1)["status"] == "open"
    assert events(desk, 1, "self_service") == []
    (notice,) = to_agent(smtp_sink)
    assert "1. The printer shows as offline" in notice.get_content(), "a follow-up's match"
    assert uses(desk) == [], "suggested to the customer only in the acknowledgement"


def test_kb_saves_a_draft_the_lead_publishes_and_answer_sends_it(desk, mailbox, smtp_sink):
    mailbox.deliver(make_mail(subject="scanner jams", body="The scanner jams on every page."))
    cycle(desk)
    (notice,) = [m for m in to_agent(smtp_sink) if "New" in m["Subject"]]
    smtp_sink.received.clear()

    mailbox.deliver(reply(notice, "#kb Scanner jams\n#tag scanner\n\nClean the rollers."))
    cycle(desk)
    (told,) = to_agent(smtp_sink, "boss@desk.example")
    assert "draft article 4" in told.get_content() and "#kb publish 4" in told.get_content()
    assert [a.get_content().strip() for a in answers(smtp_sink)] == ["Clean the rollers."]
    with db.transaction(desk.sessions) as session:
        draft = articles.find(session, "scanner-jams")
        assert draft is not None and (draft.id, draft.status, draft.tags) == (
            4,
            "draft",
            "scanner",
        )
        assert articles.tickets_of(session, draft) == [1]

    smtp_sink.received.clear()
    mailbox.deliver(
        reply(notice, "#answer scanner-jams\n\nSorry!", sender="Lin <lin@desk.example>")
    )
    cycle(desk)
    (refused,) = to_agent(smtp_sink)
    assert "article 4 is a draft" in refused.get_content(), "all or nothing: nothing sent"
    assert answers(smtp_sink) == []

    smtp_sink.received.clear()
    mailbox.deliver(reply(notice, "#kb publish 4", sender="Lin <lin@desk.example>"))
    mailbox.deliver(reply(told, "#kb publish 4", sender="Boss <boss@desk.example>"))
    cycle(desk)
    assert "only a lead or an admin publishes" in to_agent(smtp_sink)[0].get_content()
    assert events(desk, 1, "kb_published") == ["article 4: Scanner jams"]


def test_answer_sends_the_article_below_the_agents_text_as_the_first_response(
    desk, mailbox, smtp_sink
):
    mailbox.deliver(make_mail(subject="help", body="The screen flickers."))
    mailbox.deliver(make_mail(sender="bob@customer.example", subject="server down", body="Down!"))
    cycle(desk)
    (notice,) = [m for m in to_agent(smtp_sink) if m["Subject"].endswith(": help")]
    smtp_sink.received.clear()
    mailbox.deliver(reply(notice, "#answer 1\n#status pending\n\nHello Ann, try this:"))
    cycle(desk)

    (answer,) = answers(smtp_sink)
    text = answer.get_content().replace("\r\n", "\n")
    assert text.startswith("Hello Ann, try this:\n\nSwitch the printer off and on")
    assert "Quote [Ticket#1] if it still fails." in text, "rendered with the ticket's values"
    detail = show(desk, 1)
    assert detail["status"] == "pending"
    met = {e["clock"]: e["detail"] for e in detail["sla_ledger"] if e["kind"] == "met"}
    assert met["first_response"] == "lin@desk.example", "the first response, met by Lin"
    with db.transaction(desk.sessions) as session:
        assert session.get_one(Ticket, 1).first_response_at == desk.clock()
    assert events(desk, 1, "kb_answer") == ["article 1: The printer shows as offline"]
    assert (1, 1, "answer") in uses(desk)
    figures = report_of(desk)
    assert figures["articles_used"] == {
        "answers": 1,
        "accepted": 0,
        "articles": [
            {"number": 1, "slug": "the-printer-shows-as-offline"}
            | {"title": "The printer shows as offline", "answers": 1, "accepted": 0}
        ],
    }
    assert figures["kb_gaps"] == [{"category": "outage", "tickets": 1}], "hardware has one"
