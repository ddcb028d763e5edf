"""Issue #17: a proof names one ticket (class 1), is spent once per text and expires
(class 2), and only our own server's topmost Authentication-Results count (class 3).

End to end over Dovecot and aiosmtpd on both databases (the desk of
test_agent_reply: ticket 1 open, Lin's notification in hand); two workers at once
on PostgreSQL.
"""

from email.utils import make_msgid

import pytest
from sqlalchemy import select

from maildesk.intake import pipeline
from maildesk.intake.pipeline import Outcome
from maildesk.mail import ids
from maildesk.store import db
from maildesk.store.tables import OutboxKind, OutboxMail
from tests.conftest import KEYS, make_mail
from tests.desk import test_agent_reply as agent_tests
from tests.desk.sla.desk import _parsed
from tests.desk.test_agent_reply import AUTH, answers, reply, to_agent
from tests.support import cycle, desk_toml, events, race, show

desk = agent_tests.desk  # the fixture: ticket 1 open, Lin's notification in hand


def resent(mail, body: str | None = None):
    """A copy of the reply under a new Message-ID (its text rewritten if `body` is given)."""
    copy = _parsed(mail.as_bytes())
    if body is not None:
        copy.set_content(body)
    del copy["Message-ID"]
    copy["Message-ID"] = make_msgid(domain="desk.example")
    return copy


def test_a_reply_sent_again_under_a_new_message_id_is_a_replay(desk, mailbox, smtp_sink):
    app, notice = desk()
    first = reply(notice, "#tag urgent\n\nOn it, Ann.")
    mailbox.deliver(first)
    cycle(app)
    text = first.get_content()
    mailbox.deliver(resent(first))
    mailbox.deliver(resent(first, text.replace("On it, Ann.", "  ON IT,\n   ann.")))
    cycle(app)

    assert len(answers(smtp_sink)) == 1, "relayed once"
    assert len(events(app, 1, "commands")) == 1 and len(events(app, 1, "tags")) == 1
    replays = events(app, 1, "agent_mail_refused")
    assert len(replays) == 2 and all("a replay" in r for r in replays), "re-cased, re-wrapped too"
    (told,) = to_agent(smtp_sink)
    assert "a replay: the same reply to the same mail of ours" in told.get_content()

    mailbox.deliver(reply(notice, "#priority P1\n\nOne more thing: the toner."))
    cycle(app)
    assert show(app, 1)["priority"] == "P1", "another reply to the same notification counts"
    assert [a.get_content().strip() for a in answers(smtp_sink)][1:] == [
        "One more thing: the toner."
    ]


@pytest.mark.parametrize(("days", "applied"), [(29, True), (31, False)])
def test_a_proof_expires_after_proof_max_age_days(days, applied, desk, mailbox, smtp_sink, clock):
    app, notice = desk()
    clock.advance(days=days, hours=1)
    mailbox.deliver(reply(notice, "#priority P1\n\nSorry for the wait."))
    cycle(app)
    assert (show(app, 1)["priority"] == "P1") is applied
    assert bool(answers(smtp_sink)) is applied
    if not applied:
        (why,) = events(app, 1, "agent_mail_refused")
        assert why.endswith(
            "the mail of ours it answers is 31 days old (agent_mail.proof_max_age_days is 30)"
        )


def test_an_id_we_never_stored_proves_nothing(desk, mailbox, smtp_sink):
    app, _notice = desk()
    unsent = ids.make_message_id(KEYS, 1, "desk.example", "lin@desk.example")
    mailbox.deliver(
        make_mail(
            sender=agent_tests.LIN,
            subject="Re: [Ticket#1] printer",
            body="#status closed",
            In_Reply_To=unsent,
            References=unsent,
        )
    )
    cycle(app)
    assert show(app, 1)["status"] == "open" and answers(smtp_sink) == []
    (why,) = events(app, 1, "agent_mail_refused")
    assert why.endswith("it answers a mail of ours that we have no record of")


def test_a_proof_names_one_ticket_a_merged_ones_commands_nothing(desk, mailbox, smtp_sink):
    app, notice = desk()
    mailbox.deliver(make_mail(sender="Ann <ann@customer.example>", subject="printer again"))
    mailbox.deliver(reply(notice, "#merge 2\n#note"))
    cycle(app)
    smtp_sink.received.clear()
    mailbox.deliver(reply(notice, "#priority P0\n\nOn it."))
    cycle(app)

    assert show(app, 2)["priority"] == "P2" and answers(smtp_sink) == []
    (why,) = events(app, 2, "agent_mail_refused")
    assert why.endswith("ticket #1 was merged into #2: reply to a mail of #2")
    kept = [m for m in show(app, 2)["messages"] if m["text"].startswith("#priority P0")]
    assert [m["class"] for m in kept] == ["human"], "kept as an ordinary mail"
    (told,) = to_agent(smtp_sink)
    assert told["Subject"].startswith("[Ticket#2] ") and "was merged into #2" in told.get_content()
    mailbox.deliver(reply(told, "#priority P0\n\nOn it."))
    cycle(app)
    assert show(app, 2)["priority"] == "P0", "the notice is a mail of #2 to her: it proves"


OURS_PASS = "mx.desk.example; dkim=pass header.d=desk.example"
OURS_FAIL = "mx.desk.example; dkim=fail header.d=desk.example; spf=fail"


@pytest.mark.parametrize(
    ("top", "below", "applied"),
    [
        (OURS_PASS, OURS_FAIL, True),
        (OURS_FAIL, OURS_PASS, False),
        ("mx.desk.example; none", "mx.desk.example; spf=pass smtp.mailfrom=desk.example", False),
        ("relay.elsewhere.example; dkim=pass header.d=desk.example", OURS_PASS, False),
        (None, None, False),
    ],
    ids=["ours-pass-on-top", "ours-fail-on-top", "ours-none", "another-on-top", "no-header"],
)
def test_only_the_topmost_authentication_results_count(
    top, below, applied, desk, mailbox, smtp_sink
):
    app, notice = desk(AUTH)
    written_below = {"Authentication_Results": below} if below else {}
    mail = reply(notice, "#priority P1\n\nOn it.", **written_below)
    raw = (f"Authentication-Results: {top}\r\n".encode() if top else b"") + mail.as_bytes()
    written = app.parser.parse(raw).headers.get("authentication-results", ())
    assert tuple(v.strip() for v in written) == tuple(h for h in (top, below) if h), (
        "kept in the message's order, topmost first"
    )
    mailbox.deliver(raw)
    cycle(app)
    assert (show(app, 1)["priority"] == "P1") is applied
    assert bool(answers(smtp_sink)) is applied
    if not applied:
        (why,) = events(app, 1, "agent_mail_refused")
        assert "the topmost Authentication-Results header is not mx.desk.example's" in why


@pytest.mark.parametrize("database_kind", ["postgresql"], indirect=True)
@pytest.mark.one_database("SQLite has one writer at a time: no two workers interleave")
def test_two_workers_with_copies_of_one_reply_apply_it_once(make_app, database_url):
    first, second = make_app(extra=desk_toml()), make_app(extra=desk_toml())
    pipeline.process(first, make_mail(subject="printer").as_bytes(), "test:1")
    with db.transaction(first.sessions) as session:
        notices = select(OutboxMail).where(OutboxMail.kind == OutboxKind.AGENT_NOTIFICATION)
        (notice,) = [_parsed(row.raw) for row in session.scalars(notices)]
    mail = reply(notice, "#priority P1\n\nOn it.")
    copy = resent(mail)
    outcomes = race(
        database_url,
        (first, mail.as_bytes(), "imap:a#1:2"),
        (second, copy.as_bytes(), "imap:a#1:3"),
    )
    assert outcomes == (Outcome.STORED, Outcome.STORED)
    assert len(events(first, 1, "commands")) == 1 and show(first, 1)["priority"] == "P1"
    (why,) = events(first, 1, "agent_mail_refused")
    assert "a replay" in why, "the unique index decided: a refusal, not an error"
    with db.transaction(first.sessions) as session:
        kinds = list(session.scalars(select(OutboxMail.kind).order_by(OutboxMail.id)))
    assert kinds.count(OutboxKind.AGENT_REPLY) == 1, "one answer to the customer"
