"""The SLA end to end over Dovecot and aiosmtpd: an outage ticket's review and first
response met by the agent's reply, an escalation mail that the lead answers by replying."""

from datetime import timedelta

from tests.conftest import T0, make_mail
from tests.desk.sla.desk import SLA, clock_of, run_sweep
from tests.desk.test_agent_reply import reply
from tests.support import cycle, desk_toml, show

BOSS = "Boss <boss@desk.example>"


def start(mailbox, smtp_sink, make_app):
    app = make_app(mailbox, smtp_sink, extra=desk_toml() + SLA.format(keys=""))
    mailbox.deliver(make_mail(sender="Ann <ann@customer.example>", subject="Shop is down"))
    cycle(app)
    (notice,) = [m for m in smtp_sink.messages if m["To"] == "lin@desk.example"]
    (ack,) = [m for m in smtp_sink.messages if m["To"] == "ann@customer.example"]
    smtp_sink.received.clear()
    return app, notice, ack


def test_the_agents_reply_meets_the_review_and_the_first_response(
    mailbox, smtp_sink, make_app, clock
):
    app, notice, ack = start(mailbox, smtp_sink, make_app)
    assert "We aim to answer within 15 minutes." in ack.get_content()
    clock.advance(minutes=6)
    mailbox.deliver(reply(notice, "We are on it; the payment gateway is restarting."))
    cycle(app)

    assert clock_of(app, 1, "review").state == "met"
    first = clock_of(app, 1, "first_response")
    assert (first.state, first.breached_at) == ("met", None)
    assert show(app, 1)["due"]["first_response"] == (T0 + timedelta(minutes=15)).isoformat()
    clock.advance(minutes=84)  # 1h30 in: the resolution's warning (75 % of 2 h)
    run_sweep(app)
    cycle(app)
    assert [m["To"] for m in smtp_sink.messages if "SLA" in m["Subject"]] == [
        "lin@desk.example"
    ], "the met clocks are silent: only the resolution warns"


def test_the_lead_answers_an_escalation_by_replying_to_it(mailbox, smtp_sink, make_app, clock):
    app, notice, _ack = start(mailbox, smtp_sink, make_app)
    clock.advance(minutes=11)  # the review is overdue: L1 goes to Lin and Boss
    run_sweep(app)
    cycle(app)
    (escalation,) = [m for m in smtp_sink.messages if m["To"] == "boss@desk.example"]
    assert "SLA L1: overdue (P0, engineer review)" in escalation["Subject"]

    mailbox.deliver(
        make_mail(
            sender="Ann <ann@customer.example>",
            subject="Re: [Ticket#1] Shop is down",
            body="请升级处理，优先级太低了",
        )
    )
    cycle(app)
    assert clock_of(app, 1, "lead_answer").state == "running"
    mailbox.deliver(reply(escalation, "#assign wang\n\nWang takes this now.", sender=BOSS))
    cycle(app)

    assert clock_of(app, 1, "lead_answer").state == "met"
    assert clock_of(app, 1, "review").state == "met"
    detail = show(app, 1)
    assert detail["assignee"] == "wang@desk.example"
    assert any(f["clock"] == "review" and f["level"] == "L1" for f in detail["levels_fired"])
