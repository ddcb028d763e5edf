"""A month of support, simulated: seeded traffic through the real pipeline on a virtual
clock, then the report. It writes the database and the report's page.

Why it exists: the report, the SLA ladder and the surveys only show what they
are for over weeks of work, and a newcomer (or a change to any of them) wants
to see that without a month of real mail. Customers write by weekday and hour
(traffic.py); the desk's rules give priorities and categories; agents answer by
mail, replying to their notifications with commands, after delays drawn from a
lognormal model (P0/P1 around the clock, the rest in working hours); some ask
back and the customer answers, some tickets breach and escalate, resolved ones
are surveyed and rated, a few are reopened. Every mail goes through
`intake.pipeline.process` at its moment on the clock, and the daemon's SLA and
survey jobs run at each deadline kept in the database (daemon/turns.py). Outgoing mail stays
queued in the outbox (no SMTP), as with `maildesk import`.

How to run (repository root, `pip install -e '.[test]'`):

    python bench/simulate.py --days 30             # writes simulation/desk.db, report.html
    python bench/simulate.py --days 3 --scale 0.5 --out /tmp/sim --seed 7

It prints what happened (tickets, mails, breaches, surveys, reopenings), the
report's figures, and how fast the pipeline ran. Nothing is asserted.
"""

import argparse
import heapq
import itertools
import os
import random
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import traffic

sys.path.insert(0, str(Path(__file__).parent.parent))
from sim_desk import Desk, config_text  # noqa: E402

from maildesk import config as config_module  # noqa: E402
from maildesk.app import App  # noqa: E402
from maildesk.daemon.turns import Turns  # noqa: E402
from maildesk.demo.clock import Clock  # noqa: E402
from maildesk.desk.report import figures  # noqa: E402
from maildesk.store import db  # noqa: E402
from maildesk.views import report_html, report_text  # noqa: E402

START = datetime(2026, 11, 1, 16, 0, tzinfo=UTC)  # Monday 2 November 2026, 00:00 in Shanghai
SETTLE_DAYS = 9  # after the last arrival: answers, surveys (a day), the window (7 days)

Action = Callable[[], None]


class Simulation:
    """The clock, the queue of what happens next, and the models' random numbers."""

    def __init__(self, desk: Desk, clock: Clock, rng: random.Random) -> None:
        self.desk, self.clock, self.rng = desk, clock, rng
        self.queue: list[tuple[datetime, int, Action]] = []
        self.order = itertools.count()
        self.counts: Counter[str] = Counter()

    def at(self, moment: datetime, action: Action) -> None:
        heapq.heappush(self.queue, (moment, next(self.order), action))

    def run_until(self, end: datetime, turns: Turns) -> None:
        """Each action at its moment, the sweeps the daemon would have run between."""
        while self.queue and self.queue[0][0] <= end:
            moment, _, action = heapq.heappop(self.queue)
            self.sweep_until(moment, turns)
            self.clock.now = moment
            action()
        self.sweep_until(end, turns)

    def sweep_until(self, moment: datetime, turns: Turns) -> None:
        """The SLA and survey jobs at each deadline that comes by `moment` (the daemon's
        run every minute: a minute apart at least), and the surveys they sent answered."""
        while (due := self.desk.next_deadline()) is not None and due <= moment:
            before = self.clock()
            self.clock.now = max(due, before + timedelta(minutes=1))
            turns.sweep()
            for number in self.desk.surveys_sent_since(before):
                self.survey_received(number)

    # what people do

    def customer_writes(self) -> None:
        customer, topic = self.desk.customer(self.rng), traffic.topic(self.rng)
        number = self.desk.new_mail(customer, topic, self.clock())
        self.counts["tickets"] += 1
        self.agent_later(number, traffic.FIRST_ANSWER, self.first_answer)

    def agent_later(self, number: int, model: dict, action: Callable[[int], None]) -> None:
        """The agent's next move on the ticket, after a delay of `model` for its priority."""
        priority = self.desk.priority(number)
        moment = traffic.agent_delay(self.rng, self.clock(), priority, model)
        self.at(moment, lambda: action(number))

    def customer_later(self, model: tuple[float, float], action: Action) -> None:
        self.at(self.clock() + timedelta(minutes=traffic.minutes(self.rng, model)), action)

    def first_answer(self, number: int) -> None:
        if self.rng.random() < traffic.ASKS_BACK:
            self.desk.agent_writes(number, "#status pending\n\nCould you send a screenshot?")
            self.counts["asked back"] += 1
            self.customer_later(traffic.CUSTOMER_ANSWERS, lambda: self.customer_answers(number))
            return
        self.desk.agent_writes(number, "Thank you, we are on it and will write when it is fixed.")
        self.agent_later(number, traffic.RESOLVE, self.resolve)

    def customer_answers(self, number: int) -> None:
        self.desk.customer_replies(number, "agent_reply", "Here is the screenshot you asked for.")
        self.agent_later(number, traffic.RESOLVE, self.resolve)

    def resolve(self, number: int) -> None:
        self.desk.agent_writes(number, "#resolve fixed, see the answer above")
        self.counts["resolutions"] += 1
        if self.rng.random() < traffic.REOPENS:
            self.customer_later(traffic.REOPEN_AFTER, lambda: self.customer_reopens(number))

    def customer_reopens(self, number: int) -> None:
        if self.desk.status(number) != "resolved":
            return  # closed already, or the survey reopened it
        self.desk.customer_replies(number, "status_update", "Sorry, it happens again.")
        self.counts["reopened by mail"] += 1
        self.agent_later(number, traffic.RESOLVE, self.resolve)

    def survey_received(self, number: int) -> None:
        self.counts["surveys sent"] += 1
        if self.rng.random() < traffic.SURVEY_ANSWERED:
            self.customer_later(traffic.SURVEY_DELAY, lambda: self.rates(number))

    def rates(self, number: int) -> None:
        answer = traffic.rating(self.rng, self.desk.breached(number))
        self.desk.customer_replies(number, "survey", answer)
        self.counts["surveys answered"] += 1
        if answer.startswith("not solved"):
            self.counts["not solved"] += 1
            self.agent_later(number, traffic.RESOLVE, self.resolve)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=30, help="days of arrivals (30)")
    parser.add_argument("--scale", type=float, default=1.0, help="times the hourly rates (1)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--out", type=Path, default=Path("simulation"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    database = args.out / "desk.db"
    database.unlink(missing_ok=True)
    config = args.out / "maildesk.toml"
    config.write_text(config_text(f"sqlite:///{database}"), encoding="utf-8")
    os.environ.setdefault("MAILDESK_SECRET", "simulation-secret-not-for-production")

    clock = Clock(START)
    app = App.build(config_module.load(config), clock=clock)
    db.upgrade(app.engine)
    rng = random.Random(args.seed)
    sim = Simulation(Desk(app), clock, rng)
    for moment in traffic.arrivals(rng, START, args.days, args.scale):
        sim.at(moment, sim.customer_writes)
    began = time.perf_counter()
    sim.run_until(START + timedelta(days=args.days + SETTLE_DAYS), Turns(app))
    seconds = time.perf_counter() - began
    _report(app, args, sim, seconds)
    app.close()


def _report(app: App, args: argparse.Namespace, sim: Simulation, seconds: float) -> None:
    first = START.astimezone(traffic.ZONE).date()
    with db.transaction(app.sessions) as session:
        data = figures(session, app.desk(), first, first + timedelta(days=args.days), None)
    page = args.out / "report.html"
    page.write_text(report_html.page(data), encoding="utf-8")
    mails = sim.desk.mails
    print(
        f"simulated {args.days} days (seed {args.seed}, scale {args.scale:g}) in {seconds:.1f} s"
    )
    print(f"  {mails} mails through the pipeline, {mails / seconds:.1f} mails/s of wall time")
    for name, n in sim.counts.items():
        print(f"  {name}: {n}")
    print()
    for line in report_text.lines(data):
        print(line)
    print(f"\ndatabase {args.out / 'desk.db'}, config {args.out / 'maildesk.toml'}, page {page}")


if __name__ == "__main__":
    main()
