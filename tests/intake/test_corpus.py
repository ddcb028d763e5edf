"""Our own mail corpus (tests/mail/*.eml) end to end: IMAP in, ticket out.

Each case is delivered to a fresh Dovecot mailbox, fetched by one poll
cycle, and its acknowledgements sent to the SMTP sink; the assertions are
on the ticket that results, as tests/mail/expected.toml describes it (the
file's header explains every key, including the seed mail and its
{ACK_MESSAGE_ID} / {ACK_SUBJECT} placeholders).
"""

import tomllib
from typing import Any

import pytest
from sqlalchemy import select

from maildesk.app import App
from maildesk.store import db
from maildesk.store.intake_tables import Quarantine
from maildesk.store.tables import Direction, Event, Message
from maildesk.views import records
from tests.conftest import CORPUS, Mailbox, SmtpSink, make_mail
from tests.support import cycle

MAIL = CORPUS
CASES: dict[str, dict[str, Any]] = tomllib.loads(
    (MAIL / "expected.toml").read_text(encoding="utf-8")
)
SEED_CUSTOMER = "ann@customer.example"


def test_every_eml_has_expectations_and_back() -> None:
    assert {p.stem for p in MAIL.glob("*.eml")} == set(CASES)
    assert len(CASES) >= 40


def seed(app: App, mailbox: Mailbox, sink: SmtpSink) -> dict[bytes, bytes]:
    """Ticket 1 from the customer, and the placeholders its ack fills in."""
    mailbox.deliver(
        make_mail(
            sender=f"Ann Lee <{SEED_CUSTOMER}>",
            subject="Printer jam on floor 3",
            body="The printer on floor 3 jams on every page.",
        )
    )
    cycle(app)
    ack = sink.messages[-1]
    return {
        b"{ACK_MESSAGE_ID}": str(ack["Message-ID"]).encode(),
        b"{ACK_SUBJECT}": str(ack["Subject"]).encode(),
    }


def case_bytes(name: str, placeholders: dict[bytes, bytes]) -> bytes:
    raw = (MAIL / f"{name}.eml").read_bytes()
    for placeholder, value in placeholders.items():
        raw = raw.replace(placeholder, value)
    return raw


@pytest.mark.parametrize("name", sorted(CASES))
def test_corpus_case(name: str, mailbox: Mailbox, smtp_sink: SmtpSink, make_app) -> None:
    case = CASES[name]
    app = make_app(mailbox, smtp_sink, extra=case.get("config", ""))
    placeholders = seed(app, mailbox, smtp_sink) if case.get("seed") else {}
    acks_before = len(smtp_sink.received)

    mailbox.deliver(case_bytes(name, placeholders))
    cycle(app)

    new_acks = smtp_sink.received[acks_before:]
    with db.transaction(app.sessions) as session:
        if case.get("outcome") == "quarantined":
            assert_quarantined(session, new_acks)
            return
        message = session.scalars(
            select(Message).where(Message.direction == Direction.IN).order_by(Message.id.desc())
        ).first()
        assert message is not None and message.source.startswith("imap:")
        assert_message(case, message)
        assert_ticket(case, session, message, bool(placeholders))
        assert_attachments(case, message)
        assert_events(case, session, message)
    assert_ack(case, new_acks, message)


def assert_quarantined(session, new_acks) -> None:
    assert session.scalar(select(Quarantine)) is not None
    assert session.scalar(select(Message).where(Message.direction == Direction.IN)) is None
    assert new_acks == []


def assert_message(case: dict[str, Any], message: Message) -> None:
    assert message.mail_class == case["class"]
    for key, column in (("subject", "subject"), ("from_name", "from_name")):
        if key in case:
            assert getattr(message, column) == case[key]
    for wanted in case.get("text", ()):
        assert wanted in message.text, f"{wanted!r} not in new text {message.text!r}"
    for unwanted in case.get("not_text", ()):
        assert unwanted not in message.text, f"{unwanted!r} in new text {message.text!r}"
    for wanted in case.get("full_text", ()):
        assert wanted in message.full_text
    if case.get("html"):
        assert message.html
    assert "\ufffd" not in message.text + message.subject + message.from_name, "mojibake"


def assert_ticket(case: dict[str, Any], session, message: Message, seeded: bool) -> None:
    ticket = records.ticket_detail(session, message.ticket.number)
    if case["ticket"] == "seed":
        assert ticket["number"] == 1
    else:
        assert ticket["number"] == (2 if seeded else 1)
        assert [m["direction"] for m in ticket["messages"]][0] == "in"
    shown = next(
        m
        for m in ticket["messages"]
        if m["message_id"] == message.message_id and m["direction"] == "in"
    )
    assert shown["text"] == (message.text or message.full_text), "never nothing"
    assert shown["class"] == case["class"]
    for wanted in case.get("shown", ()):
        assert wanted in shown["text"]
    for key in ("priority", "customer"):
        if key in case:
            assert ticket[key] == case[key]


def assert_attachments(case: dict[str, Any], message: Message) -> None:
    if "attachments" not in case:
        return
    expected = case["attachments"]
    stored = [(a.filename, a.blob_id is not None) for a in message.attachments]
    assert stored == [(a["filename"], a["stored"]) for a in expected]
    blobs: dict[str, set[int | None]] = {}
    for attachment, wanted in zip(message.attachments, expected, strict=True):
        if "content_id" in wanted:
            assert (attachment.inline, attachment.content_id) == (True, wanted["content_id"])
        if "blob" in wanted:
            blobs.setdefault(wanted["blob"], set()).add(attachment.blob_id)
    assert all(len(ids) == 1 for ids in blobs.values()), "same bytes, one blob"


def assert_events(case: dict[str, Any], session, message: Message) -> None:
    kinds = set(
        session.scalars(select(Event.kind).where(Event.ticket_id == message.ticket_id)).all()
    )
    assert set(case.get("events", ())) <= kinds


def assert_ack(case: dict[str, Any], new_acks, message: Message) -> None:
    if not case["ack"]:
        assert new_acks == []
        return
    assert len(new_acks) == 1
    _sender, recipients, ack = new_acks[0]
    assert recipients == [message.from_addr]
    assert ack["In-Reply-To"] == message.message_id or message.message_id is None
    body = ack.get_content()
    for wanted in case.get("ack_text", ()):
        assert wanted in body
