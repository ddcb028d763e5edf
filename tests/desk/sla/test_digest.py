"""The daily SLA digest: once per agent and local day, at the hour, soonest due first.

Tickets open Monday 2026-11-23 10:00 in Shanghai (02:00 UTC) and go round robin
to Lin, then Wang; lead Boss has none. The digest hour is 08:00 local (00:00 UTC).
"""

import threading
from datetime import UTC, date, datetime
from email import message_from_bytes, policy

from sqlalchemy import select

from maildesk.daemon.loop import Daemon
from maildesk.desk.sla import digest
from maildesk.desk.templates import Templates
from maildesk.store import db
from maildesk.store.deadline_tables import DigestSent
from maildesk.store.tables import OutboxKind, OutboxMail
from tests.desk.sla.desk import agent_answers, customer_writes, run_sweep, sla_desk
from tests.support import show

LIN, WANG, BOSS = "lin@desk.example", "wang@desk.example", "boss@desk.example"
ON = "digest = true"


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def send(app) -> int:
    return digest.send_digests(app.sessions, app.desk(), app.clock())


def digests(app) -> dict[str, list]:
    """The digest mails queued (agent mail on no ticket), parsed, by their one recipient."""
    found: dict[str, list] = {}
    with db.transaction(app.sessions) as session:
        rows = session.scalars(
            select(OutboxMail).where(OutboxMail.ticket_id.is_(None)).order_by(OutboxMail.id)
        ).all()
        for row in rows:
            assert row.kind == OutboxKind.AGENT_NOTIFICATION
            (to,) = [r.address for r in row.recipients]
            found.setdefault(to, []).append(message_from_bytes(row.raw, policy=policy.default))
    return found


def claimed(app) -> set[tuple[str, date]]:
    with db.transaction(app.sessions) as session:
        return {(r.agent, r.day) for r in session.scalars(select(DigestSent))}


def ticket_lines(mail) -> list[str]:
    return [line.strip() for line in mail.get_content().splitlines() if "[Ticket#" in line]


def test_off_by_default_nothing_is_sent(make_app, clock):
    app = sla_desk(make_app)
    customer_writes(app)
    clock.now = utc(24, 1)
    assert send(app) == 0
    assert digests(app) == {} and claimed(app) == set()


def test_at_the_hour_one_mail_per_agent_with_tickets_soonest_due_first(make_app, clock):
    app = sla_desk(make_app, sla=ON)
    customer_writes(app, "a question")  # 1, Lin: P3, first response due Mon 14:00
    customer_writes(app, "printer")  # 2, Wang: P2, due Mon 12:00
    customer_writes(app, "outage")  # 3, Lin: P0, due Mon 10:15
    customer_writes(app, "another question")  # 4, Wang
    assert [show(app, n)["assignee"] for n in (1, 3)] == [LIN, LIN]
    clock.now = utc(23, 3)
    agent_answers(app, 1, "Here is how.")  # answered: its resolution (3wd) is what is due

    clock.now = utc(23, 23, 59)  # Tuesday 07:59 local
    assert send(app) == 0, "before the digest hour"
    assert digests(app) == {} and claimed(app) == set()

    clock.now = utc(24, 0)  # Tuesday 08:00 local
    assert send(app) == 2
    mails = digests(app)
    assert sorted(mails) == [LIN, WANG], "Boss has no ticket: no mail"
    (lin,) = mails[LIN]
    assert lin["Subject"] == "SLA digest 2026-11-24: 2 open"
    assert lin["Auto-Submitted"] == "auto-generated"
    assert lin["From"] == f"Test Support <{app.config.sender_for(None)}>", "the smtp sender"
    assert ticket_lines(lin) == [
        "[Ticket#3] P0 [open] due 2026-11-23 10:15 OVERDUE: outage",
        "[Ticket#1] P3 [open] due 2026-11-26 10:00: a question",
    ], "ticket 1 answered: its resolution is due, Thursday, not overdue"
    assert "Breached yesterday" not in lin.get_content()
    assert [line.split(" due ")[0] for line in ticket_lines(mails[WANG][0])] == [
        "[Ticket#2] P2 [open]",
        "[Ticket#4] P3 [open]",
    ]
    tuesday = date(2026, 11, 24)
    assert claimed(app) == {(LIN, tuesday), (WANG, tuesday), (BOSS, tuesday)}


def test_once_a_day_whatever_the_runs_and_again_the_next_day(make_app, clock):
    app = sla_desk(make_app, sla=ON)
    customer_writes(app)
    clock.now = utc(24, 0, 5)
    assert send(app) == 1
    clock.now = utc(24, 9)
    assert send(app) == 0, "the same local day"
    assert [len(m) for m in digests(app).values()] == [1]

    clock.now = utc(24, 23, 59)  # Wednesday 07:59 local
    assert send(app) == 0
    clock.now = utc(25, 0)
    assert send(app) == 1
    (tuesday, wednesday) = digests(app)[LIN]
    assert wednesday["Subject"] == "SLA digest 2026-11-25: 1 open"
    assert wednesday["Message-ID"] != tuesday["Message-ID"]
    assert {day for _agent, day in claimed(app)} == {date(2026, 11, 24), date(2026, 11, 25)}


def test_yesterdays_breaches_are_listed_and_only_yesterdays(make_app, clock):
    app = sla_desk(make_app, sla=ON)
    customer_writes(app)  # Lin's, P2: first response due Monday 12:00 local
    clock.now = utc(23, 4, 1)
    assert run_sweep(app).breached == 1

    clock.now = utc(24, 0)
    assert send(app) == 1
    (mail,) = digests(app)[LIN]
    assert mail["Subject"] == "SLA digest 2026-11-24: 1 open, 1 breached yesterday"
    breached = mail.get_content().split("Breached yesterday:")[1]
    assert "[Ticket#1] P2 first response was due 2026-11-23 12:00: printer" in breached

    clock.now = utc(25, 0)
    assert send(app) == 1
    assert "Breached yesterday" not in digests(app)[LIN][1].get_content(), "that was Monday"


def test_an_agent_with_nothing_gets_no_mail_and_is_not_looked_at_again(make_app, clock):
    app = sla_desk(make_app, sla=ON)
    customer_writes(app)  # Lin's
    clock.now = utc(24, 1)
    assert send(app) == 1
    assert list(digests(app)) == [LIN]
    assert {agent for agent, _day in claimed(app)} == {LIN, WANG, BOSS}
    customer_writes(app, "printer again", sender="bob@customer.example")  # now Wang has one
    assert send(app) == 0, "Wang's digest of today was made (empty)"
    assert list(digests(app)) == [LIN]


def test_two_workers_at_once_send_each_digest_once(make_app, clock):
    app = sla_desk(make_app, sla=ON)
    customer_writes(app)
    customer_writes(app, "printer", sender="bob@customer.example")
    clock.now = utc(24, 0)
    counts: list[int] = []
    workers = [threading.Thread(target=lambda: counts.append(send(app))) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sum(counts) == 2
    assert sorted((to, len(mails)) for to, mails in digests(app).items()) == [(LIN, 1), (WANG, 1)]


def test_the_daemon_has_a_digest_job_only_when_it_is_on(make_app, clock):
    off = Daemon(sla_desk(make_app))
    app = sla_desk(make_app, sla=ON)
    customer_writes(app)
    clock.now = utc(24, 0)
    on = Daemon(app)
    jobs = []
    for daemon in (off, on):
        daemon.start()
        jobs.append(daemon.scheduler.get_job("digest"))
        daemon.shutdown()
    assert jobs[0] is None
    assert jobs[1].trigger.interval.total_seconds() == 300
    jobs[1].func()  # the job's own run at start may have sent it already: once either way
    assert [(to, len(mails)) for to, mails in digests(app).items()] == [(LIN, 1)]


def test_both_locales_render_plain_values():
    context = {
        "desk_name": "Desk",
        "agent_name": "Lin",
        "day": "2026-11-24",
        "tickets": [
            {"tag": "[T#1]", "priority": "P1", "status": "open", "subject": "s", "due": "x"}
            | {"overdue": True}
        ],
        "breaches": [
            {"tag": "[T#1]", "priority": "P1", "status": "open", "subject": "s", "due": "y"}
            | {"clock_names": ("first response", "首次响应")}
        ],
    }
    templates = Templates(None, "en")
    en = templates.render("digest", "en", context)
    zh = templates.render("digest", "zh", context)
    assert en.subject == "SLA digest 2026-11-24: 1 open, 1 breached yesterday"
    assert "[T#1] P1 [open] due x OVERDUE: s" in en.text
    assert "[T#1] P1 首次响应时限 y：s" in zh.text and "已超时" in zh.text
