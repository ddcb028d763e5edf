"""Customers cannot make the desk mail its staff without bound, on both databases, as the
SMTP sink sees it: a customer's escalation request reaches the leads once per ticket in
its window, and one sender's notices past the hourly cap are told in one at the hour's
end, by whichever daemon runs then."""

import asyncio

from sqlalchemy import func, select

from maildesk.desk import notice_cap
from maildesk.intake import pipeline
from maildesk.store import db
from maildesk.store.tables import Event
from maildesk.transport import outbox
from tests.conftest import make_mail
from tests.desk.sla.desk import SLA, agent_does, customer_writes
from tests.support import desk_toml, events

LIN, BOSS = "lin@desk.example", "boss@desk.example"
PLEASE = "The priority is too low, please escalate."
# Lin is the one member of team support, Boss its lead: every notice of a new ticket
# or a follow-up goes to Lin, every escalation to Boss.
ONE_AGENT = """
[[agents]]
email = "lin@desk.example"
name = "Lin"
team = "support"

[[agents]]
email = "boss@desk.example"
name = "Boss"
role = "lead"

[[teams]]
name = "support"
leads = ["boss@desk.example"]
"""


def staff_mails(app, sink) -> list[tuple[list[str], str]]:
    """Send the outbox; the (envelope, subject) of each mail to the desk's people that the
    SMTP server received since the last look, in order."""
    asyncio.run(outbox.drain(app))
    received, sink.received[:] = list(sink.received), []
    return [
        (to, message["Subject"])
        for _from, to, message in received
        if all(address.endswith("@desk.example") for address in to)
    ]


def held_events(app) -> int:
    with db.transaction(app.sessions) as session:
        query = select(func.count(Event.id)).where(Event.kind == notice_cap.HELD)
        return session.scalar(query)


def test_an_escalation_request_reaches_the_leads_once_per_ticket_in_the_window(
    make_app, smtp_sink, clock
):
    sla = SLA.format(keys='escalation_request_window = "2h"')
    app = make_app(None, smtp_sink, extra=desk_toml() + sla)
    number = customer_writes(app, body=PLEASE)
    for _ in range(4):
        clock.advance(minutes=20)
        customer_writes(app, subject="Re: [Ticket#1] printer", body=PLEASE, at=clock.now)

    escalated = [m for m in staff_mails(app, smtp_sink) if "Escalated to you" in m[1]]
    assert escalated == [([BOSS], "[Ticket#1] Escalated to you (P2): printer")]
    assert len(events(app, number, "escalation_requested")) == 1
    assert len(events(app, number, "escalation_request_repeated")) == 4
    agent_does(app, number, "#escalate they mean it", agent=LIN)
    assert [to for to, _s in staff_mails(app, smtp_sink)] == [[BOSS]], "an agent's goes"

    clock.advance(hours=2)
    customer_writes(app, subject="Re: [Ticket#1] printer", body=PLEASE, at=clock.now)
    escalated = [m for m in staff_mails(app, smtp_sink) if "Escalated to you" in m[1]]
    assert [to for to, _s in escalated] == [[BOSS]], "the window is over: told again"


def test_200_mails_from_one_sender_tell_the_agent_cap_plus_one_times(make_app, smtp_sink, clock):
    app = make_app(None, smtp_sink, extra=ONE_AGENT)
    senders = ("Ann <ann@customer.example>", "ANN@Customer.Example")  # one mailbox
    batch = [
        pipeline.Pending(
            make_mail(
                sender=senders[n % 2],
                subject=f"printer {n}" if n % 3 == 0 else "Re: [Ticket#1] printer 0",
                body=f"Mail {n}.",
            ).as_bytes(),
            f"test:storm:{n}",
        )
        for n in range(200)
    ]
    pipeline.process_batch(app, batch)

    told = staff_mails(app, smtp_sink)
    assert len(told) == 10 and all(to == [LIN] for to, _s in told)
    assert held_events(app) == 190, "each held mail is stored, with why on its ticket"
    clock.advance(minutes=59)
    assert notice_cap.fold(app.sessions, app.desk(), clock()) == 0, "the hour is not over"

    clock.advance(minutes=1)
    restarted = make_app(None, smtp_sink, extra=ONE_AGENT)  # another daemon, same database
    assert notice_cap.fold(restarted.sessions, restarted.desk(), clock()) == 1
    assert notice_cap.fold(restarted.sessions, restarted.desk(), clock()) == 0, "told once"
    asyncio.run(outbox.drain(restarted))
    ((_from, to, fold),) = smtp_sink.received
    assert to == [LIN]
    assert fold["Subject"].endswith("And 190 more from ann@customer.example")
    text = fold.get_content()
    assert "since 2026-11-23 10:00 CST: past 10 notices an hour" in text
    (listed,) = [line for line in text.splitlines() if line.startswith("Tickets:")]
    numbers = [1, *range(5, 24)]  # where held mails went, the first 20: new ones every third
    assert listed.split()[1:] == [f"#{n}" for n in numbers] + ["and", "others"]
    smtp_sink.received.clear()

    customer_writes(restarted, subject="Re: [Ticket#1] printer 0", at=clock.now)
    assert [to for to, _s in staff_mails(restarted, smtp_sink)] == [[LIN]], "a new hour"


def test_held_escalations_and_notices_are_told_in_one_to_everyone_they_were_for(
    make_app, smtp_sink, clock
):
    app = make_app(
        None, smtp_sink, extra=ONE_AGENT + "[agent_mail]\nmax_notices_per_sender_per_hour = 2\n"
    )
    customer_writes(app, subject="printer", body=PLEASE)  # Boss escalated, Lin new: 2
    customer_writes(app, subject="scanner", body=PLEASE)  # both held
    assert staff_mails(app, smtp_sink) == [
        ([BOSS], "[Ticket#1] Escalated to you (P2): printer"),
        ([LIN], "[Ticket#1] New (P2): printer"),
    ]
    clock.advance(hours=1)
    assert notice_cap.fold(app.sessions, app.desk(), clock()) == 1
    assert staff_mails(app, smtp_sink) == [
        ([BOSS], "[Ticket#2] And 2 more from ann@customer.example"),
        ([LIN], "[Ticket#2] And 2 more from ann@customer.example"),
    ]


def test_with_no_cap_every_mail_is_told(make_app, smtp_sink, clock):
    app = make_app(
        None, smtp_sink, extra=ONE_AGENT + "[agent_mail]\nmax_notices_per_sender_per_hour = 0\n"
    )
    for n in range(15):
        customer_writes(app, subject=f"printer {n}")
    assert [to for to, _s in staff_mails(app, smtp_sink)] == [[LIN]] * 15
    assert held_events(app) == 0
