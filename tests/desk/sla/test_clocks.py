"""SLA clocks through the desk's own paths: intake opens them, commands pause, resolve,
reopen and reprioritise, on both databases, with an injected clock.

T0 is Monday 10:00 in Shanghai (02:00 UTC); the calendar works 09:00-18:00.
A P2 ticket then owes its first response by 12:00 and its resolution by 18:00.
"""

from datetime import timedelta

from tests.conftest import T0
from tests.desk.sla.desk import (
    ack_text,
    agent_does,
    clock_of,
    customer_writes,
    ledger,
    run_sweep,
    sla_desk,
    utc,
)
from tests.support import show


def test_a_new_p2_ticket_owes_its_answer_in_two_and_its_fix_in_eight_working_hours(make_app):
    app = sla_desk(make_app)
    number = customer_writes(app)

    detail = show(app, number)
    assert detail["priority"] == "P2"
    assert detail["due"] == {
        "first_response": utc(23, 4).isoformat(),
        "resolution": utc(23, 10).isoformat(),
    }
    assert {c["clock"]: c["state"] for c in detail["sla"]} == {
        "first_response": "running",
        "resolution": "running",
    }, "no review clock below P1"


def test_p0_runs_around_the_clock_and_needs_a_review_within_ten_minutes(make_app, clock):
    app = sla_desk(make_app)
    clock.now = utc(23, 15)  # 23:00 in Shanghai: outside working hours
    number = customer_writes(app, subject="Shop is down", at=clock.now)

    assert clock_of(app, number, "first_response").due_at == utc(23, 15, 15)
    assert clock_of(app, number, "resolution").due_at == utc(23, 17)
    assert clock_of(app, number, "review").due_at == utc(23, 15, 10)
    assert "We aim to answer within 15 minutes." in ack_text(app, number)
    assert "outside our working hours" not in ack_text(app, number), "P0 work starts now"


def test_pending_pauses_both_clocks_and_the_customers_answer_resumes_them(make_app, clock):
    app = sla_desk(make_app)
    number = customer_writes(app)
    clock.advance(minutes=30)
    agent_does(app, number, "#status pending")

    paused = clock_of(app, number, "first_response")
    assert (paused.state, paused.due_at, paused.next_at) == ("paused", None, None)
    assert paused.used_seconds == 30 * 60
    clock.advance(hours=3)
    assert not run_sweep(app), "a paused clock never escalates"

    customer_writes(app, subject="Re: [Ticket#1] printer", at=clock.now)
    assert show(app, number)["status"] == "open"
    assert clock_of(app, number, "first_response").due_at == utc(23, 7), "13:30 + 1h30"
    assert clock_of(app, number, "resolution").due_at == utc(24, 4), "7h30 left: Tue 12:00"
    (pause,) = show(app, number)["pauses"]
    assert pause == {"from": utc(23, 2, 30).isoformat(), "until": utc(23, 5, 30).isoformat()}


def test_a_priority_change_recomputes_from_the_ledger_with_its_pauses(make_app, clock):
    app = sla_desk(make_app)
    number = customer_writes(app, subject="A question about invoices")
    assert show(app, number)["priority"] == "P3"
    assert clock_of(app, number, "first_response").due_at == utc(23, 6), "4 working hours"
    clock.advance(minutes=30)
    agent_does(app, number, "#status pending")
    clock.advance(minutes=30)
    agent_does(app, number, "#status open")
    clock.advance(minutes=30)  # 11:30: one hour used, half an hour paused
    agent_does(app, number, "#priority P2")

    first = clock_of(app, number, "first_response")
    assert first.used_seconds == 3600
    assert first.due_at == utc(23, 4, 30), "2h target, 1h used: 12:30"
    assert first.run == 2
    resolution = clock_of(app, number, "resolution")
    assert resolution.due_at == utc(24, 1, 30), "8h, 1h used: 18:00 today, then Tue 09:30"
    assert ("first_response", "recomputed", None) in ledger(app, number)


def test_resolving_meets_the_clock_and_reopening_keeps_the_time_used(make_app, clock):
    app = sla_desk(make_app)
    number = customer_writes(app)
    clock.advance(hours=2)
    agent_does(app, number, "#resolve restarted the spooler (workaround)")

    resolution = clock_of(app, number, "resolution")
    assert (resolution.state, resolution.used_seconds) == ("met", 2 * 3600)
    assert clock_of(app, number, "first_response").state == "stopped", "nobody answered"
    clock.advance(hours=24)  # Tuesday 12:00
    customer_writes(app, subject="Re: [Ticket#1] printer", at=clock.now)

    again = clock_of(app, number, "resolution")
    assert (show(app, number)["status"], again.state, again.run) == ("open", "running", 2)
    assert again.due_at == utc(24, 10), "6 working hours left: Tuesday 18:00"
    kinds = [kind for clock_name, kind, _ in ledger(app, number, "resolution")]
    assert kinds == ["started", "met", "restarted"]


def test_closing_stops_every_clock_and_nothing_escalates_after(make_app, clock):
    app = sla_desk(make_app)
    number = customer_writes(app)
    agent_does(app, number, "#close")
    clock.advance(days=3)

    assert not run_sweep(app)
    assert {c["state"] for c in show(app, number)["sla"]} == {"stopped"}


def test_a_mail_at_2359_on_friday_is_promised_monday_morning(make_app, clock):
    app = sla_desk(make_app)
    clock.now = utc(27, 15, 59)  # Friday 23:59 in Shanghai
    number = customer_writes(app, at=clock.now)
    chinese = customer_writes(
        app, subject="打印机坏了", body="您好，打印机无法打印，请帮忙处理。", at=clock.now
    )

    assert clock_of(app, number, "first_response").due_at == utc(30, 3), "Monday 11:00"
    text = ack_text(app, number)
    assert "We aim to answer within 2 working hours." in text
    assert "we start on it\nMonday 30 November 2026, 09:00 (CST)." in text
    text = ack_text(app, chinese)
    assert "我们将在 2 个工作小时内答复您。" in text
    assert "我们将于 2026年11月30日（星期一）09:00 开始处理" in text


def test_a_mail_in_working_hours_promises_no_later_start(make_app):
    app = sla_desk(make_app)
    number = customer_writes(app)

    assert "outside our working hours" not in ack_text(app, number)
    assert T0 + timedelta(hours=2) == clock_of(app, number, "first_response").due_at
