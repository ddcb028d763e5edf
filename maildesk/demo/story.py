"""The demo's story, step by step: two customers write, an agent answers by mail, an
outage is escalated on the moved clock, the tickets are resolved, surveyed, rated and
closed, and the report is made.

STEPS is the story: each step acts through the scene (mail in over IMAP, time on the
clock) and then checks that what it promised happened, returning the lines to print,
or raises `Missed`. A later step relies on the earlier ones; a new step is one entry.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass

from maildesk.demo.report import report_made
from maildesk.demo.scene import Missed, Scene, Sent, one

ANN, ZHANG = "Ann Lee <ann@shop.example>", "张伟 <zhang.wei@example.cn>"
CUSTOMER = {"outage": "ann@shop.example", "export": "zhang.wei@example.cn"}  # role: address
LIN, LEAD = "lin@demo.test", "mei@demo.test"
KNOWN_SOLUTION = "报表导出失败的解决办法"  # an article of the demo's knowledge base (run.py)
ANSWER = "您好，导出失败是报表模板的问题。我们正在修复，今天之内给您答复。"
SUMMARY = {
    "outage": "Restarted the payment gateway; payments go through again.",
    "export": "报表模板已修复，请重新导出。",
}


@dataclass(frozen=True)
class Step:
    title: str
    act: Callable[[Scene], list[str]]


def customers_write(scene: Scene) -> list[str]:
    scene.turns.run_now("kb")  # the daemon loads `[kb] dir` at start
    scene.deliver(ANN, "Checkout outage: customers cannot pay", "Every payment fails (502).")
    scene.deliver(
        ZHANG, "报表导出失败", "您好，从昨天开始导出月度报表时一直提示错误，请帮忙看看。"
    )
    roles = {address: role for role, address in CUSTOMER.items()}
    scene.poll()
    for row in scene.tickets():
        scene.numbers[roles[row["customer"]]] = row["number"]
    if set(scene.numbers) != set(CUSTOMER):
        raise Missed(f"two tickets expected, found {scene.numbers}")
    return [_ticket_line(scene.ticket(role)) for role in CUSTOMER]


def acks_name_the_ticket(scene: Scene) -> list[str]:
    mails = scene.new_mail()
    lines = []
    for role, customer in CUSTOMER.items():
        tag = f"#{scene.numbers[role]}"
        ack = one(mails, "acknowledgement", "ack", customer, tag)
        if tag not in ack.text():
            raise Missed(f"the acknowledgement to {customer} does not name ticket {tag}")
        lines.append(_mail_line(ack, _paragraph(ack, tag)))
    return lines


def ack_suggests_the_known_solution(scene: Scene) -> list[str]:
    """The export failure has an article in the knowledge base; the outage has none, and
    no suggestion is better than a wrong one."""
    acks = {role: one(scene.sent, "acknowledgement", "ack", CUSTOMER[role]) for role in CUSTOMER}
    if KNOWN_SOLUTION not in acks["export"].text():
        raise Missed(f"the acknowledgement to 张伟 does not suggest {KNOWN_SOLUTION!r}")
    if "==" in acks["outage"].text():
        raise Missed("the outage's acknowledgement suggests an article it has none for")
    return [_mail_line(acks["export"], _paragraph(acks["export"], KNOWN_SOLUTION))]


def agent_is_notified(scene: Scene) -> list[str]:
    return [_mail_line(_notice(scene, role)) for role in CUSTOMER]


def agent_answers(scene: Scene) -> list[str]:
    scene.later(minutes=5)
    scene.reply(LIN, _notice(scene, "export"), f"#priority P1\n#assign me\n\n{ANSWER}")
    scene.poll()
    answer = one(scene.new_mail(), "the answer", "agent_reply", CUSTOMER["export"])
    ticket = scene.ticket("export")
    if (ticket["priority"], ticket["assignee"]) != ("P1", LIN):
        raise Missed(
            f"#priority P1 #assign me not applied: {ticket['priority']}, {ticket['assignee']}"
        )
    if ANSWER not in answer.text():
        raise Missed("the customer's mail does not carry the agent's answer")
    return [
        "clock +5 min; Lin replies to the notification: #priority P1, #assign me, an answer",
        _mail_line(answer, ANSWER),
    ]


def outage_warned(scene: Scene) -> list[str]:
    scene.later(minutes=7)  # 12 min in: 75 % of the P0 first response (15 min) is used
    mails = scene.new_mail()
    one(mails, "the 75 % warning", "escalation", LEAD, "SLA warning (P0, first response)")
    return ["clock +7 min, 12 min after the outage was reported", *map(_mail_line, mails)]


def outage_escalated(scene: Scene) -> list[str]:
    scene.later(minutes=4)  # 16 min in: past the 15 min target
    mails = scene.new_mail()
    one(mails, "the breach", "escalation", LEAD, "SLA L1: overdue (P0, first response)")
    return ["clock +4 min, 16 min in", *map(_mail_line, mails)]


def agent_resolves(scene: Scene) -> list[str]:
    for role in CUSTOMER:
        scene.reply(LIN, _notice(scene, role), f"#resolve {SUMMARY[role]}")
    scene.poll()
    mails, lines = scene.new_mail(), []
    for role, customer in CUSTOMER.items():
        told = one(mails, "the resolution", "status_update", customer)
        if scene.ticket(role)["status"] != "resolved" or SUMMARY[role] not in told.text():
            raise Missed(f"ticket #{scene.numbers[role]} not resolved with its summary")
        lines.append(_mail_line(told, SUMMARY[role]))
    return ["Lin: #resolve and a summary, on both", *lines]


def survey_goes_out(scene: Scene) -> list[str]:
    scene.later(days=1)
    mails = scene.new_mail()
    one(mails, "the survey", "survey", CUSTOMER["export"])
    return ["clock +1 day", *map(_mail_line, mails)]


def customer_rates(scene: Scene) -> list[str]:
    survey = one(scene.sent, "the survey", "survey", CUSTOMER["export"])
    scene.reply(ZHANG, survey, "5 非常满意")
    scene.poll()
    answers = [
        e["detail"] for e in scene.ticket("export")["events"] if e["kind"] == "survey_answer"
    ]
    if answers != ["5/5: 非常满意"]:
        raise Missed(f"the rating was not taken as 5 (survey answers: {answers})")
    return ["张伟 answers the survey: 5 非常满意", *map(_mail_line, scene.new_mail())]


def tickets_close(scene: Scene) -> list[str]:
    scene.later(days=7)  # the survey window ends a week after the resolution
    statuses = {role: scene.ticket(role)["status"] for role in CUSTOMER}
    if set(statuses.values()) != {"closed"}:
        raise Missed(f"the tickets did not close: {statuses}")
    return [
        "clock +7 days: the survey window ends",
        *map(_ticket_line, map(scene.ticket, statuses)),
    ]


STEPS = (
    Step("two customers write, one in English, one in Chinese", customers_write),
    Step("each acknowledgement names its ticket", acks_name_the_ticket),
    Step(
        "the Chinese one suggests the known solution from the knowledge base",
        ack_suggests_the_known_solution,
    ),
    Step("the agents' notification arrives", agent_is_notified),
    Step("the agent answers by mail, with commands; the customer gets the answer", agent_answers),
    Step("the P0 outage passes its 75 % warning", outage_warned),
    Step("the outage breaches and is escalated to the lead", outage_escalated),
    Step("the agent resolves with #resolve and a summary", agent_resolves),
    Step("a day later the survey goes out", survey_goes_out),
    Step("the customer answers 5 非常满意", customer_rates),
    Step("the tickets close", tickets_close),
    Step("the report, and its page in the current directory", report_made),
)


def _notice(scene: Scene, role: str) -> Sent:
    tag = f"#{scene.numbers[role]}"
    return one(scene.sent, "the agents' notification", "agent_notification", LIN, tag)


def _ticket_line(ticket: dict) -> str:
    return (
        f"#{ticket['number']} {ticket['priority']} {ticket['status']:8} "
        f"{ticket['customer']}: {ticket['subject']}"
    )


def _mail_line(sent: Sent, text: str = "") -> str:
    return f"→ {sent.to}: {sent.subject}" + (f"\n      {text}" if text else "")


def _paragraph(sent: Sent, word: str) -> str:
    """The first paragraph of the mail's text that holds `word`, on one line."""
    paragraphs = re.split(r"\n\s*\n", sent.text())
    found = next((p for p in paragraphs if word in p), "")
    return " ".join(found.split()) if " " in found else found.replace("\n", "")
