"""The survey after a resolution, on both databases: when it goes, when it must not, the
answers by mail, the low score and "not solved", and the close when the window ends."""

from sqlalchemy import select

from maildesk.desk import follow_up
from maildesk.desk.survey import sweep
from maildesk.store import db
from maildesk.store.deadline_tables import Survey
from maildesk.store.tables import Event, OutboxKind, OutboxMail
from tests.desk.sla.desk import _parsed, agent_does, customer_writes, sla_desk
from tests.support import show

BOSS = "boss@desk.example"


def surveys(app) -> list[tuple[str, str]]:
    """(state, detail) of every survey, oldest first."""
    with db.transaction(app.sessions) as session:
        return [(s.state, s.detail) for s in session.scalars(select(Survey).order_by(Survey.id))]


def rating(app, number: int) -> tuple[int | None, bool | None, str | None]:
    with db.transaction(app.sessions) as session:
        ticket = follow_up.by_number(session, number)
        s = session.scalar(select(Survey).where(Survey.ticket_id == ticket.id))
        return s.rating, s.solved, s.comment


def mails(app, kind: str) -> list:
    with db.transaction(app.sessions) as session:
        rows = session.scalars(select(OutboxMail).where(OutboxMail.kind == kind)).all()
        return [(_parsed(r.raw), [x.address for x in r.recipients]) for r in rows]


def run(app):
    return sweep.sweep(app.sessions, app.desk(), app.clock())


def resolved_ticket(app, clock, **mail) -> int:
    number = customer_writes(app, **mail)
    clock.advance(hours=1)
    agent_does(app, number, "#resolve replaced the toner")
    return number


def test_the_survey_goes_a_day_after_the_resolution_and_once(make_app, clock):
    app = sla_desk(make_app)
    resolved_ticket(app, clock)
    clock.advance(hours=23, minutes=59)
    assert not run(app)
    clock.advance(minutes=1)

    assert run(app).sent == 1
    assert not run(app)
    ((mail, to),) = mails(app, OutboxKind.SURVEY)
    assert to == ["ann@customer.example"]
    assert mail["Subject"] == "[Ticket#1] How did we do? printer"
    assert "Reply with a number from 5 (very satisfied) to 1" in mail.get_content()
    assert mail["Auto-Submitted"] == "auto-generated"
    assert surveys(app) == [("sent", "")]


def test_with_the_web_page_on_the_survey_has_one_click_links(make_app, clock):
    app = sla_desk(make_app, '[web]\npublic_url = "https://desk.example/s"\n')
    resolved_ticket(app, clock)
    clock.advance(days=1)
    run(app)

    ((mail, _to),) = mails(app, OutboxKind.SURVEY)
    links = [line.split()[-1] for line in mail.get_content().splitlines() if "https://" in line]
    assert len(links) == 5 and all(u.startswith("https://desk.example/s/survey/") for u in links)
    assert links[0].endswith("?score=5") and links[-1].endswith("?score=1")


def test_no_survey_for_a_ticket_reopened_merged_or_closed_as_spam(make_app, clock):
    app = sla_desk(make_app)
    reopened = resolved_ticket(app, clock, subject="reopened one")
    customer_writes(
        app, subject="Re: [Ticket#1] reopened one", body="It broke again.", at=clock.now
    )
    spam = resolved_ticket(app, clock, subject="spam one", sender="x@spam.example")
    agent_does(app, spam, "#close spam")
    merged = resolved_ticket(app, clock, subject="merged one", sender="m@other.example")
    agent_does(app, merged, f"#merge {reopened}")
    clock.advance(days=2)
    run(app)

    assert mails(app, OutboxKind.SURVEY) == []
    assert [state for state, _ in surveys(app)] == ["skipped", "skipped", "skipped"]
    assert {detail for _, detail in surveys(app)} == {"ticket open", "ticket closed"}
    assert any(
        e["kind"] == "closed_as" and e["detail"] == "spam" for e in show(app, spam)["events"]
    )


def test_no_survey_to_a_no_reply_address_and_one_per_customer_per_cooldown(make_app, clock):
    app = sla_desk(make_app)
    resolved_ticket(app, clock, sender="noreply@shop.example")
    first = resolved_ticket(app, clock, subject="first")
    clock.advance(days=1)
    run(app)
    second = resolved_ticket(app, clock, subject="second")
    clock.advance(days=1)
    run(app)

    assert [state for state, _ in surveys(app)] == ["skipped", "sent", "skipped"]
    assert "in the last 30 days" in surveys(app)[2][1]
    assert show(app, first)["status"] == "resolved" and show(app, second)["status"] == "resolved"


def test_a_reply_with_a_digit_is_the_rating_and_keeps_the_ticket_resolved(make_app, clock):
    app = sla_desk(make_app)
    number = resolved_ticket(app, clock)
    clock.advance(days=1)
    run(app)
    acks_before = len(mails(app, OutboxKind.ACK))
    customer_writes(app, subject="Re: [Ticket#1] How did we do?", body="5 非常满意", at=clock.now)

    assert rating(app, number) == (5, True, "非常满意")
    assert show(app, number)["status"] == "resolved"
    assert len(mails(app, OutboxKind.ACK)) == acks_before, "no acknowledgement of a rating"
    customer_writes(app, subject="Re: [Ticket#1] How did we do?", body="4", at=clock.now)
    assert rating(app, number)[0] == 4, "the rating can change until the ticket closes"


def test_a_low_score_goes_to_the_lead_and_not_solved_reopens(make_app, clock):
    app = sla_desk(make_app)
    number = resolved_ticket(app, clock)
    clock.advance(days=1)
    run(app)
    customer_writes(app, subject="Re: [Ticket#1] How did we do?", body="2 slow", at=clock.now)

    ((mail, to),) = mails(app, OutboxKind.ESCALATION)
    assert to == [BOSS] and "survey 2/5: slow" in mail.get_content()
    customer_writes(app, subject="Re: [Ticket#1] How did we do?", body="not solved", at=clock.now)
    assert show(app, number)["status"] == "open"
    assert rating(app, number)[1] is False
    resolution = [c for c in show(app, number)["sla"] if c["clock"] == "resolution"][0]
    assert (resolution["state"], resolution["run"]) == ("running", 2)


def test_the_ticket_closes_when_the_window_ends(make_app, clock):
    app = sla_desk(make_app, "[survey]\nclose_notice = true\n")
    number = resolved_ticket(app, clock)
    clock.advance(days=1)
    run(app)
    clock.advance(days=5, hours=23)
    assert not run(app)
    clock.advance(hours=1)

    assert run(app).closed == 1
    assert show(app, number)["status"] == "closed"
    assert surveys(app) == [("expired", "")]
    closing = [m for m, _ in mails(app, OutboxKind.STATUS_UPDATE) if "Closed:" in m["Subject"]]
    assert len(closing) == 1 and "7 days ago and is now closed" in closing[0].get_content()
    with db.transaction(app.sessions) as session:
        kinds = session.scalars(select(Event.detail).where(Event.kind == "status")).all()
    assert kinds[-1] == "resolved -> closed"


def test_a_skipped_survey_still_closes_the_ticket_at_the_end(make_app, clock):
    app = sla_desk(make_app)
    number = resolved_ticket(app, clock, sender="noreply@shop.example")
    clock.advance(days=7)
    run(app)
    assert show(app, number)["status"] == "closed"


def test_with_surveys_off_the_ticket_still_closes_when_the_window_ends(make_app, clock):
    app = sla_desk(make_app, "[survey]\nenabled = false\n")
    number = resolved_ticket(app, clock)
    clock.advance(days=6)
    assert not run(app)
    clock.advance(days=1)

    assert run(app).closed == 1
    assert mails(app, OutboxKind.SURVEY) == []
    assert surveys(app) == [("skipped", "surveys are off")]
    assert show(app, number)["status"] == "closed"
