"""SIGKILL rounds: `maildesk run` killed at seeded random points while customer mails,
agents' replies with commands, auto-replies, SLA levels and surveys coming due all
flow; then a clean run drains everything, and nothing was lost or done twice.

Real Dovecot, aiosmtpd and a SQLite file (PostgreSQL's several workers and their
kill are tests/test_workers.py). Time is the desk clock the test moves between
rounds (tests/faults/desk.py). The one thing a kill may double is the documented
window of the outbox: a mail the SMTP server accepted just before the kill, whose
row was not yet marked sent, goes out again with the same Message-ID (at most one
per kill with `outbox.connections = 1`). The test prints what it counted.
"""

import os
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC
from email import message_from_bytes
from pathlib import Path

from tests.conftest import T0, config_text, make_mail
from tests.daemon.test_process import HANG
from tests.desk.sla.desk import SLA
from tests.faults.desk import DeskClock, Forker, KillPoint
from tests.support import count, desk_toml, migrated_sqlite, rows, wait_until

# The full size is 300 (MAILDESK_FAULT_MAILS=300); the suite's budget takes fewer.
MAILS = int(os.environ.get("MAILDESK_FAULT_MAILS", "100"))
ROUNDS = 10
SEED = int(os.environ.get("MAILDESK_FAULT_SEED", "22"))  # another seed, other kill points
AUTO_REPLIES = 1  # per round: stored, opened, never answered
ROUND_MINUTES = 4  # the clock between rounds: P0 review and first-response ladders fire
SURVEY = """
[survey]
delay_hours = 0.5
sweep_interval = 0.5
"""


def customer_mails(round_no: int, per_round: int) -> list:
    """One outage (P0: its ladders fire within the rounds) and questions (P3: none do)."""
    mails = [make_mail(sender=f"p0-{round_no}@customer.example", subject=f"Shop down {round_no}")]
    mails += [
        make_mail(sender=f"c{round_no}-{i}@customer.example", subject=f"question {round_no}.{i}")
        for i in range(per_round - 1)
    ]
    return mails


def auto_replies(round_no: int) -> list:
    return [
        make_mail(
            sender=f"ooo{round_no}-{i}@customer.example",
            subject="Out of office",
            Auto_Submitted="auto-replied",
        )
        for i in range(AUTO_REPLIES)
    ]


def agent_replies(rng: random.Random, notices: list, replied: set[str]) -> tuple[list, int, int]:
    """Agents answer a third of the new-ticket notices not yet answered: half an answer
    with a command (to the customer), half `#resolve` (a status mail, a survey later).
    Returns the mails, and how many answers and resolutions they hold."""
    fresh = [n for n in notices if n["Message-ID"] not in replied]
    chosen = rng.sample(fresh, len(fresh) // 3)
    mails, answers = [], 0
    for n, notice in enumerate(chosen):
        replied.add(notice["Message-ID"])
        answering = n % 2 == 0
        answers += answering
        body = "#priority P2\n\nWe are looking into it." if answering else "#resolve Fixed it."
        mails.append(
            make_mail(
                sender=str(notice["To"]),
                subject=f"Re: {notice['Subject']}",
                body=body,
                In_Reply_To=notice["Message-ID"],
                References=notice["Message-ID"],
            )
        )
    return mails, answers, len(chosen) - answers


@dataclass
class Flow:
    """What the rounds put in, to check what came out against."""

    delivered: list[str] = field(default_factory=list)  # Message-IDs, in order
    replied: set[str] = field(default_factory=set)  # notices an agent answered
    answers: int = 0
    resolutions: int = 0
    points: list[KillPoint] = field(default_factory=list)


def make_desk(tmp_path, mailbox, smtp_sink) -> tuple[str, Path]:
    """The desk's SQLite URL and config: agents, SLA and surveys, sweeps twice a second."""
    url = migrated_sqlite(tmp_path)
    text = config_text(url, mailbox.server.port, mailbox.user, smtp_sink.port)
    text = text.replace(
        "max_attempts = 5", "max_attempts = 5\nclaim_seconds = 3\ndrain_interval = 0.3"
    )
    config = tmp_path / "maildesk.toml"
    config.write_text(text + desk_toml() + SLA.format(keys="sweep_interval = 0.5") + SURVEY)
    return url, config


def kill_round(round_no, rng, flow, url, config, forker, mailbox, smtp_sink) -> None:
    """Agents answer, new mail arrives, and a daemon runs until its kill point."""
    of_kind = dict(rows(url, "SELECT message_id, kind FROM outbox"))
    notices = [
        m
        for m in {m["Message-ID"]: m for m in smtp_sink.messages}.values()
        if of_kind.get(m["Message-ID"]) == "agent_notification" and "New (" in m["Subject"]
    ]
    replies, answered, resolved = agent_replies(rng, notices, flow.replied)
    flow.answers += answered
    flow.resolutions += resolved
    customers = customer_mails(round_no, MAILS // ROUNDS)
    mails = customers + auto_replies(round_no) + replies
    mailbox.deliver(*mails)
    flow.delivered += [m["Message-ID"] for m in mails]
    counters = {
        "fetched": lambda: count(url, "SELECT count(*) FROM receipts"),
        "sent": lambda: len(smtp_sink.received),
    }
    before = {name: counter() for name, counter in counters.items()}
    point = KillPoint.draw(rng, len(mails), 2 * len(customers))
    flow.points.append(point)
    daemon = forker.start(config)
    try:
        point.wait(daemon, counters, before)
    finally:
        forker.kill(daemon)


def drained(url: str, clock: DeskClock, flow: Flow, smtp_sink) -> bool:
    """Every mail taken, nothing due (sent, SLA level, survey), every mail arrived."""
    now = clock.now.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")  # as SQLite holds it
    return (
        count(url, "SELECT count(*) FROM receipts") == len(flow.delivered)
        and count(url, "SELECT count(*) FROM outbox WHERE status = 'pending'") == 0
        and count(url, "SELECT count(*) FROM sla_clocks WHERE next_at <= :now", now=now) == 0
        and count(
            url,
            "SELECT count(*) FROM surveys WHERE state = 'scheduled' AND due_at <= :now",
            now=now,
        )
        == 0
        and len({m["Message-ID"] for m in smtp_sink.messages})
        >= count(url, "SELECT count(*) FROM outbox")
    )


def test_sigkill_rounds_lose_nothing_and_double_only_the_mail_in_flight(
    tmp_path, mailbox, smtp_sink
):
    url, config = make_desk(tmp_path, mailbox, smtp_sink)
    clock = DeskClock(config, T0)
    rng, flow = random.Random(SEED), Flow()
    forker = Forker()
    try:
        for round_no in range(ROUNDS):
            kill_round(round_no, rng, flow, url, config, forker, mailbox, smtp_sink)
            clock.advance(minutes=ROUND_MINUTES)
        clock.advance(hours=1)  # the last kill's claims run out; the surveys come due
        daemon = forker.start(config)
        try:
            wait_until(lambda: drained(url, clock, flow, smtp_sink), HANG)
            clock.advance(hours=1)  # and those of the resolutions this run took in
            wait_until(lambda: drained(url, clock, flow, smtp_sink), HANG)
        finally:
            assert forker.stop(daemon) == 0
    finally:
        forker.close()

    entries = Counter(
        mid for (mid,) in rows(url, "SELECT message_id FROM messages WHERE direction = 'in'")
    )
    assert entries == Counter(flow.delivered), "one entry per mail delivered"
    assert count(url, "SELECT count(*) FROM quarantine") == 0
    assert mailbox.count("INBOX") == 0 and mailbox.count("Processed") == len(flow.delivered)

    customers = MAILS // ROUNDS * ROUNDS
    assert count(url, "SELECT count(*) FROM tickets") == customers + AUTO_REPLIES * ROUNDS
    assert once_per_ticket(url, "ack") == customers, "one ack per customer's ticket"
    assert once_per_ticket(url, "agent_reply") == flow.answers, "each answer relayed once"
    assert once_per_ticket(url, "survey") == flow.resolutions, "one survey per resolution"
    levels = rows(url, "SELECT ticket_id, clock, run, level FROM sla_events WHERE kind = 'level'")
    assert levels and len(levels) == len(set(levels)), "each level once per clock run"
    escalations = [
        message_from_bytes(raw)
        for (raw,) in rows(url, "SELECT raw FROM outbox WHERE kind = 'escalation'")
    ]
    told = [(m["Subject"], m["To"]) for m in escalations]
    assert told and len(told) == len(set(told)), "each escalation mail once"

    assert count(url, "SELECT count(*) FROM outbox WHERE status <> 'sent'") == 0
    of_kind = dict(rows(url, "SELECT message_id, kind FROM outbox"))
    copies = Counter(m["Message-ID"] for m in smtp_sink.messages)
    assert set(copies) == set(of_kind), "every queued mail went out, and nothing else"
    doubled = sorted(of_kind[mid] for mid, n in copies.items() for _ in range(n - 1))
    print(
        f"\n{ROUNDS} SIGKILLs ({', '.join(f'{p.what} {p.amount}' for p in flow.points)}):"
        f" {len(flow.delivered)} mails in, {len(copies)} out, {len(doubled)} sent again"
        f" (in flight at a kill: {', '.join(doubled) or 'none'})"
    )
    assert sum(copies.values()) - len(copies) <= ROUNDS, "at most one mail again per kill"


def once_per_ticket(url: str, kind: str) -> int:
    """How many tickets got an outbox mail of `kind`; fails if one got two."""
    tickets = rows(url, "SELECT ticket_id FROM outbox WHERE kind = :kind", kind=kind)
    assert len(tickets) == len(set(tickets)), f"a ticket got two {kind} mails"
    return len(tickets)
