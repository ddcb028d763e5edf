"""Issue #17, class 1: an id of ours bound to one person never reaches anyone else.

A notification's Message-ID proves an agent's reply; were it in the References of
mail to the customer, the customer could forge the agent's From and run their
commands. End to end over Dovecot and aiosmtpd, on both databases: one ticket goes
through every kind of mail we send, and each mail the sink received is checked.
"""

import asyncio
import re

from maildesk.desk.sla import digest
from maildesk.mail import ids
from maildesk.transport import outbox
from tests.conftest import KEYS, SECRET, make_mail
from tests.desk.sla.desk import SLA, run_sweep, utc
from tests.desk.survey.test_surveys import run as survey_sweep
from tests.desk.test_agent_reply import reply
from tests.support import cycle, desk_toml, events, show

ANN = "Ann <ann@customer.example>"
WANG = "Wang <wang@desk.example>"
DESK = desk_toml() + SLA.format(keys="digest = true") + "\n[survey]\nclose_notice = true\n"
# What each mail we send is, told by its subject (or the agent's name in From).
KINDS = (
    ("agent answer", r"^From: .* via "),
    ("agent notification", r"Subject: \[Ticket#\d\] (New|Customer wrote) \("),
    ("command help", r"Subject: .*Commands you can use"),
    ("command error", r"Subject: .*Your commands were not applied"),
    ("refusal notice", r"Subject: .*was not taken as yours"),
    ("escalation", r"Subject: .*(Escalated to you|SLA warning|SLA L\d)"),
    ("digest", r"Subject: SLA digest"),
    ("status update", r"Subject: \[Ticket#\d\] (Waiting for your reply|Resolved):"),
    ("merged notice", r"Subject: \[Ticket#2\] Now \[Ticket#1\]"),
    ("survey", r"Subject: .*How did we do\?"),
    ("survey closing", r"Subject: \[Ticket#1\] Closed:"),
    ("ack", r"Subject: \[Ticket#\d\] printer"),
)


def kind_of(mail) -> str:
    text = f"From: {mail['From']}\nSubject: {mail['Subject']}"
    return next(kind for kind, pattern in KINDS if re.search(pattern, text, re.M))


def signed_ids(mail) -> list[tuple[str, ids.Signed]]:
    """(header, what it says) of every id of ours in the threading headers."""
    found = []
    for header in ("Message-ID", "In-Reply-To", "References"):
        for value in re.findall(r"<[^<>\s]+>", mail.get(header, "")):
            signed = ids.signed(KEYS, value)
            if signed is not None:
                found.append((header, signed))
    return found


def leaks(received) -> list[str]:
    """Each bound id in a mail not to exactly the one person it is bound to."""
    problems = []
    for _sender, envelope, mail in received:
        tags = {ids.recipient_tag(SECRET, address) for address in envelope}
        for header, signed in signed_ids(mail):
            if signed.recipient and (signed.recipient not in tags or len(envelope) > 1):
                problems.append(f"{kind_of(mail)} to {envelope}: {header} bound to another")
    return problems


def latest(sink, address: str, pattern: str = "New|Customer wrote"):
    """The last mail to `address` alone whose subject matches (by default a notification)."""
    found = [m for _, to, m in sink.received if to == [address]]
    return [m for m in found if re.search(pattern, m["Subject"])][-1]


def drain(app) -> None:
    asyncio.run(outbox.drain(app))


def test_no_mail_we_send_names_an_id_bound_to_someone_else(mailbox, smtp_sink, make_app, clock):
    app = make_app(mailbox, smtp_sink, extra=DESK)
    mailbox.deliver(make_mail(sender=ANN, subject="printer", Cc="carol@customer.example"))
    cycle(app)
    ack = latest(smtp_sink, "ann@customer.example", "printer")
    mailbox.deliver(
        make_mail(
            sender=ANN,
            subject=f"Re: {ack['Subject']}",
            Cc="carol@customer.example",
            In_Reply_To=ack["Message-ID"],
            References=ack["Message-ID"],
        )
    )
    cycle(app)
    notice = latest(smtp_sink, "lin@desk.example")
    for body in ("#help", "#priority P9", "#escalate big client\n\nWe are looking at it."):
        mailbox.deliver(reply(notice, body))
        cycle(app)
    mailbox.deliver(reply(notice, "#status closed", In_Reply_To="", References=""))
    cycle(app)
    clock.now = utc(24, 5)  # Tuesday 13:00 in Shanghai: resolution at 162 % of its target
    run_sweep(app)
    digest.send_digests(app.sessions, app.desk(), app.clock())
    drain(app)
    mailbox.deliver(make_mail(sender=ANN, subject="printer again"))
    cycle(app)
    second = latest(smtp_sink, "wang@desk.example")
    mailbox.deliver(reply(second, "#merge 1\n#note", sender=WANG))
    cycle(app)
    mailbox.deliver(reply(second, "#priority P1", sender=WANG))
    cycle(app)
    for body in ("#status pending\n\nPlease send the log.", "#resolve toner\n\nFixed."):
        mailbox.deliver(reply(notice, body))
        cycle(app)
    clock.advance(days=1)
    survey_sweep(app)
    clock.advance(days=7)
    survey_sweep(app)
    drain(app)

    assert {kind_of(m) for m in smtp_sink.messages} == {kind for kind, _ in KINDS}
    assert leaks(smtp_sink.received) == []
    for _sender, envelope, mail in smtp_sink.received:
        if kind_of(mail) == "digest":
            continue  # on no ticket: a plain Message-ID
        (own,) = [s for h, s in signed_ids(mail) if h == "Message-ID"]
        one = envelope[0] if len(envelope) == 1 else None
        assert own.recipient == (one and ids.recipient_tag(SECRET, one)), (
            f"{kind_of(mail)} to {envelope}: bound to its one recipient, else to none"
        )
    copied = [to for _, to, m in smtp_sink.received if kind_of(m) == "agent answer"]
    assert copied[0] == ["ann@customer.example", "carol@customer.example"], "a mail to two"
    threaded = signed_ids(latest(smtp_sink, "lin@desk.example"))
    lin = ids.recipient_tag(SECRET, "lin@desk.example")
    assert [h for h, s in threaded if s.recipient == lin].count("References") >= 1, (
        "an agent's mail still threads on her own earlier notifications"
    )
    assert events(app, 1, "agent_mail_refused")[-1].endswith(
        "ticket #2 was merged into #1: reply to a mail of #1"
    )
    assert show(app, 1)["priority"] == "P2", "the merged ticket's proof commands nothing"


def test_a_customer_holding_all_our_mail_to_her_cannot_act_as_an_agent(
    mailbox, smtp_sink, make_app
):
    app = make_app(mailbox, smtp_sink, extra=desk_toml())
    mailbox.deliver(make_mail(sender=ANN, subject="printer"))
    cycle(app)
    mailbox.deliver(reply(latest(smtp_sink, "lin@desk.example"), "#status pending\n\nThe log?"))
    mailbox.deliver(make_mail(sender=ANN, subject="printer again"))
    cycle(app)
    second = latest(smtp_sink, "wang@desk.example")
    mailbox.deliver(reply(second, "#merge 1\n#note", sender=WANG))
    cycle(app)
    hers = [m for _, to, m in smtp_sink.received if "ann@customer.example" in to]
    assert {kind_of(m) for m in hers} == {"ack", "agent answer", "status update", "merged notice"}
    held = " ".join(
        value for m in hers for h in ("Message-ID", "References") for value in m[h].split()
    )
    ann = ids.recipient_tag(SECRET, "ann@customer.example")
    assert {s.recipient for m in hers for _h, s in signed_ids(m)} <= {None, ann}
    smtp_sink.received.clear()

    for forger in ("Lin <lin@desk.example>", WANG):
        forged = make_mail(
            sender=forger,
            subject="Re: [Ticket#2] printer again",
            body="#status closed\n#cc mallory@evil.example\n\nClosing, see mallory.",
            In_Reply_To=hers[-1]["Message-ID"],
            References=held,
        )
        mailbox.deliver(forged)
        cycle(app)

    detail = show(app, 1)
    assert detail["status"] == "pending", "nothing applied, on the surviving ticket either"
    assert [e for e in detail["events"] if e["kind"] == "cc"] == []
    assert [m for m in smtp_sink.messages if " via " in m["From"]] == [], "no answer relayed"
    refused = events(app, 1, "agent_mail_refused")
    assert len(refused) == 2 and all("answers no mail of ours to this agent" in r for r in refused)
    assert sorted(to for _, (to,), _ in smtp_sink.received) == [
        "lin@desk.example",
        "wang@desk.example",
    ], "each real agent is told, nobody else hears of it"
