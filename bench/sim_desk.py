"""The simulated desk: its config, its customers, and the mail they and the agents
write, each through the real pipeline (`intake.pipeline.process`) at the clock's moment.

Replies thread as real ones do: an agent answers the notification the desk sent
to that agent (the proof of an agent's mail), a customer answers the last mail of
a kind the desk sent them. The outbox and the tickets are only read, to find those
Message-IDs and what the simulation decides on (a ticket's priority, its breaches).
"""

import itertools
import random
from datetime import datetime
from email.parser import BytesHeaderParser
from email.policy import default

import traffic
from harness import desk_head
from mailmime import SUPPORT
from sqlalchemy import func, select

from maildesk.app import App
from maildesk.demo.mails import customer_mail
from maildesk.intake import pipeline
from maildesk.store import db
from maildesk.store.deadline_tables import SlaClock, Survey
from maildesk.store.tables import Message, OutboxMail, OutboxRecipient, Ticket

AGENTS = {"lin@desk.example": "support", "wang@desk.example": "support",
          "zhao@desk.example": "support", "chen@desk.example": "billing"}  # fmt: skip
TEAMS_AND_RULES = """
[[agents]]
email = "mei@desk.example"
name = "Mei"
role = "lead"

[[teams]]
name = "support"
assign = "round_robin"
leads = ["mei@desk.example"]

[[teams]]
name = "billing"
assign = "round_robin"
leads = ["mei@desk.example"]

[[rules]]
name = "outage"
subject_regex = "(?i)(outage|down|宕机)"
priority = "P0"
category = "outage"

[[rules]]
name = "login"
subject_regex = "(?i)(log in|登录)"
priority = "P1"
category = "login"

[[rules]]
name = "export"
subject_regex = "(?i)(export|导出)"
priority = "P2"
category = "reports"

[[rules]]
name = "billing"
subject_regex = "(?i)(invoice|发票)"
priority = "P2"
category = "billing"
team = "billing"

[[rules]]
name = "how-to"
subject_regex = "(?i)(how do i|如何)"
priority = "P3"
category = "how-to"

[[rules]]
name = "feedback"
subject_regex = "(?i)(feature|建议)"
priority = "P3"
category = "feedback"
"""
SURNAMES = ("Lee", "Smith", "Garcia", "Kim", "Novak", "Okafor", "Rossi", "Sato")
CHINESE = ("王芳", "李娜", "张伟", "刘洋", "陈静", "杨磊", "赵敏", "黄强")
COMPANIES = 60


def config_text(url: str) -> str:
    """The bench desk's head without [smtp], four agents in two teams, a lead, six rules."""
    agents = "".join(
        f'\n[[agents]]\nemail = "{a}"\nname = "{a.split("@")[0].title()}"\nteam = "{t}"\n'
        for a, t in AGENTS.items()
    )
    return desk_head(url, smtp_port=None) + agents + TEAMS_AND_RULES


class Desk:
    """The desk as the simulation's people see it: they write, it answers."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.mails = 0
        self._ids = itertools.count(1)

    def customer(self, rng: random.Random) -> tuple[str, bool]:
        """A customer (address with name) and whether they write Chinese."""
        n, chinese = rng.randrange(400), rng.random() < 0.4
        name = rng.choice(CHINESE) if chinese else f"Alex {rng.choice(SURNAMES)}"
        return f"{name} <c{n}@company{n % COMPANIES}.example>", chinese

    def new_mail(self, customer: tuple[str, bool], topic: traffic.Topic, now: datetime) -> int:
        """A customer's first mail about `topic`; the number of the ticket it opened."""
        sender, chinese = customer
        mail = customer_mail(sender, topic.subjects[chinese], topic.body, SUPPORT, now)
        self._process(mail.as_bytes(), now)
        with db.transaction(self.app.sessions) as session:
            query = select(Ticket.number).join(Message, Message.ticket_id == Ticket.id)
            return session.scalars(query.where(Message.message_id == mail["Message-ID"])).one()

    def agent_writes(self, number: int, text: str) -> None:
        """The ticket's agent (or a member of its team, who takes it) replies to their notice."""
        ticket = self._ticket(number)
        agent = ticket.assignee or next(a for a, t in AGENTS.items() if t == ticket.team)
        commands = "" if ticket.assignee else "#assign me\n"
        body = f"{commands}{text}\n\n(reference {number}-{next(self._ids)})"
        self._reply(agent, number, "agent_notification", agent, body)

    def customer_replies(self, number: int, kind: str, text: str) -> None:
        """The customer answers the last mail of `kind` the desk sent them on the ticket."""
        customer = self._ticket(number).customer
        self._reply(customer, number, kind, customer, text)

    def priority(self, number: int) -> str:
        return self._ticket(number).priority

    def status(self, number: int) -> str:
        return self._ticket(number).status

    def breached(self, number: int) -> bool:
        with db.transaction(self.app.sessions) as session:
            query = select(SlaClock.id).join(Ticket, Ticket.id == SlaClock.ticket_id)
            query = query.where(Ticket.number == number, SlaClock.breached_at.is_not(None))
            return session.scalars(query.limit(1)).first() is not None

    def next_deadline(self) -> datetime | None:
        """The first moment the SLA or the survey sweep has something to do."""
        with db.transaction(self.app.sessions) as session:
            found = [session.scalar(select(func.min(SlaClock.next_at))),
                     session.scalar(select(func.min(Survey.due_at)))]  # fmt: skip
        return min((moment for moment in found if moment is not None), default=None)

    def surveys_sent_since(self, since: datetime) -> list[int]:
        with db.transaction(self.app.sessions) as session:
            query = select(Ticket.number).join(Survey, Survey.ticket_id == Ticket.id)
            return list(session.scalars(query.where(Survey.sent_at > since)))

    def _ticket(self, number: int) -> Ticket:
        with db.transaction(self.app.sessions) as session:
            ticket = session.scalars(select(Ticket).where(Ticket.number == number)).one()
            session.expunge(ticket)
            return ticket

    def _reply(self, sender: str, number: int, kind: str, to: str, body: str) -> None:
        with db.transaction(self.app.sessions) as session:
            raw = session.scalars(
                select(OutboxMail.raw)
                .join(OutboxRecipient, OutboxRecipient.outbox_id == OutboxMail.id)
                .join(Ticket, Ticket.id == OutboxMail.ticket_id)
                .where(Ticket.number == number, OutboxMail.kind == kind)
                .where(OutboxRecipient.address == to)
                .order_by(OutboxMail.id.desc())
                .limit(1)
            ).first()
        if raw is None:
            return  # nothing to answer: the desk did not write (a gate, a loop budget)
        ours = BytesHeaderParser(policy=default).parsebytes(raw)
        mail = customer_mail(
            sender,
            f"Re: {ours['Subject']}",
            body,
            SUPPORT,
            self.app.clock(),
            In_Reply_To=str(ours["Message-ID"]),
            References=str(ours["Message-ID"]),
        )
        self._process(mail.as_bytes(), self.app.clock())

    def _process(self, raw: bytes, now: datetime) -> None:
        pipeline.process(self.app, raw, f"simulation:{self.mails}", now=now)
        self.mails += 1
