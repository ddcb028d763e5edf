"""The escalation ladder swept over deadlines kept as data: each level once, at its moment,
to its people; after a restart, while the daemon was down, with two daemons at once.

A P2 ticket opened Monday 10:00 in Shanghai (02:00 UTC), assigned to Lin of
team support (lead Boss), owes its first response by 12:00: warn at 11:30
(75 %), L1 at 12:00, L2 at 13:00, L3 at 14:00.
"""

import threading

import pytest

from maildesk.desk.sla.upcoming import upcoming
from maildesk.store import db
from tests.desk.sla.desk import (
    agent_answers,
    agent_does,
    clock_of,
    customer_writes,
    escalation_mails,
    fired,
    ledger,
    run_sweep,
    sla_desk,
    utc,
)
from tests.support import show

LIN, BOSS, DUTY = "lin@desk.example", "boss@desk.example", "duty@desk.example"


def envelopes(app) -> list[list[str]]:
    return [to for to, _mail in escalation_mails(app)]


def test_each_level_fires_once_at_its_moment_to_its_people(make_app, clock):
    app = sla_desk(make_app)
    number = customer_writes(app)
    assert show(app, number)["assignee"] == LIN

    clock.now = utc(23, 3, 29)
    assert not run_sweep(app)
    clock.now = utc(23, 3, 30)
    assert run_sweep(app).fired == 1
    assert not run_sweep(app), "a second sweep at the same moment fires nothing"
    assert fired(app, number) == [("first_response", "warn", False)]
    ((to, warning),) = escalation_mails(app)
    assert to == [LIN]
    assert warning["Subject"] == "[Ticket#1] SLA warning (P2, first response): printer"
    assert "due at 2026-11-23 12:00 CST, in 30 min" in warning.get_content()

    clock.now = utc(23, 4)
    result = run_sweep(app)
    assert (result.breached, result.fired) == (1, 1)
    clock.now = utc(23, 5)
    run_sweep(app)
    clock.now = utc(23, 6)
    run_sweep(app)
    clock.now = utc(23, 6, 59)
    assert not run_sweep(app)

    assert [level for _clock, level, _late in fired(app, number)] == ["warn", "L1", "L2", "L3"]
    assert envelopes(app) == [[LIN], [LIN], [BOSS], [BOSS], [DUTY], [BOSS], [DUTY]]
    assert ("first_response", "breached", None) in ledger(app, number)
    l1, l1_boss, l2_boss = (mail for _to, mail in escalation_mails(app)[1:4])
    assert warning["Message-ID"] in l1["References"], "threaded on the ticket's mail"
    assert l1_boss["Message-ID"] in l2_boss["References"], "on Boss's own mail too"
    assert l1["Message-ID"] not in l1_boss["References"], "Lin's ids are bound to her alone"
    assert "was due at 2026-11-23 12:00 CST and is 0 min overdue (escalation L1" in (
        l1.get_content()
    )
    assert [f["level"] for f in show(app, number)["levels_fired"]] == ["warn", "L1", "L2", "L3"]


def test_an_answer_before_the_warning_means_no_escalation_at_all(make_app, clock):
    app = sla_desk(make_app)
    number = customer_writes(app)
    clock.now = utc(23, 3)
    agent_answers(app, number, "Please restart the spooler.")
    clock.now = utc(23, 7)

    assert not run_sweep(app)
    assert fired(app, number) == []
    assert clock_of(app, number, "first_response").state == "met"


def test_levels_missed_while_down_fire_once_marked_late_and_the_stale_warning_is_skipped(
    make_app, clock
):
    app = sla_desk(make_app)
    number = customer_writes(app)
    clock.now = utc(23, 6, 30)  # back at 14:30: warn, L1, L2 and L3 all passed

    result = run_sweep(app)
    assert (result.fired, result.skipped, result.breached) == (3, 1, 1)
    assert fired(app, number) == [
        ("first_response", "L1", True),
        ("first_response", "L2", True),
        ("first_response", "L3", True),
    ]
    assert ("first_response", "skipped", "warn") in ledger(app, number)
    assert "Sent late" in escalation_mails(app)[0][1].get_content()
    assert not run_sweep(app)


def test_a_restart_between_two_sweeps_fires_nothing_twice(make_app, clock):
    first = sla_desk(make_app)
    number = customer_writes(first)
    clock.now = utc(23, 3, 30)
    run_sweep(first)
    first.close()

    second = sla_desk(make_app)  # a new process on the same database
    clock.now = utc(23, 3, 31)
    assert not run_sweep(second)
    clock.now = utc(23, 4)
    run_sweep(second)
    assert [level for _c, level, _l in fired(second, number)] == ["warn", "L1"]
    assert envelopes(second) == [[LIN], [LIN], [BOSS]]


def test_two_daemons_sweeping_at_once_fire_each_level_once(make_app, clock):
    apps = [sla_desk(make_app), sla_desk(make_app)]
    numbers = [customer_writes(apps[0], subject=f"printer {n}") for n in range(40)]
    clock.now = utc(23, 4)  # L1 due on every ticket; the warning came with the breach
    results = []
    barrier = threading.Barrier(2)

    def sweep_with(app):
        barrier.wait()
        results.append(run_sweep(app))

    threads = [threading.Thread(target=sweep_with, args=(app,)) for app in apps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(r.fired for r in results) == len(numbers)
    assert sum(r.skipped for r in results) == len(numbers), "each stale warning skipped once"
    for number in numbers:
        assert [level for _c, level, _l in fired(apps[0], number)] == ["L1"]
    assert len(escalation_mails(apps[0])) == 2 * len(numbers), "Lin or Wang, and Boss"


def test_quiet_hours_hold_a_warning_but_never_a_breach(make_app, clock):
    app = sla_desk(make_app, sla="quiet_hours = true")
    clock.now = utc(23, 15)  # 23:00 in Shanghai
    number = customer_writes(app, subject="Shop is down", at=clock.now)
    clock.now = utc(23, 15, 8)  # the review's warning (7.5 min) has come, outside hours

    result = run_sweep(app)
    assert (result.fired, result.deferred) == (0, 1)
    assert clock_of(app, number, "review").next_at == utc(23, 15, 10), "held until its breach"
    clock.now = utc(23, 15, 10)
    run_sweep(app)
    assert ("review", "L1", False) in fired(app, number)
    assert ("review", "skipped", "warn") in ledger(app, number, "review")


def test_a_level_that_raises_the_priority_recomputes_without_a_cascade(make_app, clock):
    ladder = """
[[sla.ladder]]
name = "L1"
at = "100%"
notify = ["assignee"]
raise_priority = true
clocks = ["first_response"]
"""
    app = sla_desk(make_app, ladder)
    number = customer_writes(app, subject="A question")
    clock.now = utc(23, 6)  # 14:00: P3's first response (4 working hours) is due

    assert run_sweep(app).fired == 1
    detail = show(app, number)
    assert detail["priority"] == "P2"
    first = clock_of(app, number, "first_response")
    assert first.run == 2 and first.ladder_share == 100, "P2's L1 had passed: skipped"
    assert first.next_at == clock.now, "overdue under P2 too: the next sweep notes it"
    assert run_sweep(app).fired == 0
    assert [kind for _c, kind, _l in ledger(app, number, "first_response")].count("breached") == 2
    assert len(envelopes(app)) == 1, "one mail: the raise does not escalate again"


def test_the_dry_run_lists_what_comes_and_changes_nothing(make_app, clock):
    app = sla_desk(make_app)
    number = customer_writes(app)
    clock.now = utc(23, 3)

    with db.transaction(app.sessions) as session:
        found = [u.as_json() for u in upcoming(session, app.desk(), clock.now, hours=2.5)]
    first = [f for f in found if f["clock"] == "first_response"]
    assert [(f["level"], f["at"]) for f in first] == [
        ("warn", utc(23, 3, 30).isoformat()),
        ("L1", utc(23, 4).isoformat()),
        ("L2", utc(23, 5).isoformat()),
    ]
    assert first[1]["recipients"] == [LIN, BOSS]
    assert {f["number"] for f in found} == {number}
    assert [f["level"] for f in found if f["clock"] == "resolution"] == [], "16:00, later"
    assert envelopes(app) == [] and fired(app, number) == []


@pytest.mark.parametrize("words", ["The priority is too low, please escalate", "优先级太低了"])
def test_a_customer_who_finds_the_level_too_low_reaches_the_lead(make_app, clock, words):
    app = sla_desk(make_app)
    number = customer_writes(app)
    clock.advance(minutes=5)
    customer_writes(app, subject="Re: [Ticket#1] printer", body=words, at=clock.now)

    (to, mail), *_ = escalation_mails(app)
    assert to == [BOSS] and "Escalated to you" in mail["Subject"]
    lead = clock_of(app, number, "lead_answer")
    assert (lead.state, lead.due_at) == ("running", utc(23, 2, 35)), "30 min, around the clock"
    agent_does(app, number, "#escalate again", agent=LIN)
    assert clock_of(app, number, "lead_answer").run == 1, "a running clock keeps running"


def test_a_ticket_nobody_takes_goes_to_the_leads_after_ten_minutes(make_app, clock):
    app = sla_desk(make_app)
    number = customer_writes(app, to="billing@desk.example")  # team billing assigns by hand
    assert show(app, number)["assignee"] is None
    clock.advance(minutes=9)
    assert not run_sweep(app)
    clock.advance(minutes=1)

    run_sweep(app)
    assert fired(app, number) == [("assignment", "unassigned", False)]
    ((to, mail),) = escalation_mails(app)
    assert to == [BOSS] and "(P2, assignment)" in mail["Subject"]
    agent_does(app, number, "#assign wang", agent=BOSS)
    assert clock_of(app, number, "assignment").state == "met"


def test_an_assignment_in_time_means_no_report(make_app, clock):
    app = sla_desk(make_app)
    number = customer_writes(app, to="billing@desk.example")
    clock.advance(minutes=5)
    agent_does(app, number, "#assign lin", agent=BOSS)
    clock.advance(minutes=20)

    run_sweep(app)
    assert [c for c, _level, _late in fired(app, number)] == []
    assert clock_of(app, number, "assignment").state == "met"
