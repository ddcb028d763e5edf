"""Several support mailboxes on one desk ([[mailboxes]]), over Dovecot and aiosmtpd.

Each mailbox has its own account and From address, and gives its new tickets
its team; a mailbox that is down does not hold up the others.
"""

import json

import pytest

from maildesk.errors import TemporaryFailure
from maildesk.intake import poller
from maildesk.store import db
from maildesk.views.records import stats, ticket_list
from tests.conftest import Mailbox, free_port, maildesk_in_process, make_mail
from tests.support import cycle, show


def mailboxes_toml(*entries: tuple[str, int, str, str]) -> str:
    """[[mailboxes]] tables for (name, port, user, address)."""
    return "".join(
        f"""
[[mailboxes]]
name = "{name}"
host = "127.0.0.1"
port = {port}
security = "none"
username = "{user}"
password_env = "MAILDESK_IMAP_PASSWORD"
address = "{address}"
team = "{name}-team"
"""
        for name, port, user, address in entries
    )


@pytest.fixture
def sales(dovecot) -> Mailbox:
    return Mailbox(dovecot, dovecot.new_user())


def test_each_mailbox_answers_from_its_own_address_and_sets_its_team(
    mailbox, sales, smtp_sink, make_app
):
    app = make_app(
        sink=smtp_sink,
        extra=mailboxes_toml(
            ("support", mailbox.server.port, mailbox.user, "help@desk.example"),
            ("sales", sales.server.port, sales.user, "sales@desk.example"),
        ),
    )
    mailbox.deliver(make_mail(subject="broken printer", to="help@desk.example"))
    sales.deliver(make_mail(subject="a quote please", to="sales@desk.example"))

    result, sent = cycle(app)

    assert result.outcomes == {"stored": 2} and sent.sent == 2
    senders = {m["Subject"]: m["From"] for m in smtp_sink.messages}
    assert "help@desk.example" in senders["[Ticket#1] broken printer"]
    assert "sales@desk.example" in senders["[Ticket#2] a quote please"]
    envelopes = sorted(mail_from for mail_from, _, _ in smtp_sink.received)
    assert envelopes == ["help@desk.example", "sales@desk.example"]
    assert (show(app, 1)["team"], show(app, 2)["team"]) == ("support-team", "sales-team")
    with db.transaction(app.sessions) as session:
        listed = ticket_list(session, mailbox="sales")
        counted = stats(session, "sales", poller.source_prefix(app.config.mailbox("sales")))
    assert [row["subject"] for row in listed] == ["a quote please"]
    assert counted["tickets"] == 1 and counted["messages"] == 1
    assert counted["outbox"]["sent"] == 1


def test_a_reply_to_a_mailbox_ack_keeps_its_from_address(mailbox, sales, smtp_sink, make_app):
    app = make_app(
        sink=smtp_sink,
        extra=mailboxes_toml(
            ("support", mailbox.server.port, mailbox.user, "help@desk.example"),
            ("sales", sales.server.port, sales.user, "sales@desk.example"),
        ),
    )
    first = make_mail(subject="quote", to="sales@desk.example")
    sales.deliver(first)
    cycle(app)
    (ack,) = smtp_sink.messages
    # The customer answers to the ack, but through the other mailbox's address (Cc'd).
    follow_up = make_mail(
        subject=f"Re: {ack['Subject']}",
        to="help@desk.example",
        **{"In-Reply-To": ack["Message-ID"]},
    )
    mailbox.deliver(follow_up)
    cycle(app)
    detail = show(app, 1)
    assert len(detail["messages"]) == 3, "the follow-up joined ticket 1"
    assert detail["mailbox"] == "sales", "a ticket stays with the mailbox it came in by"


def test_a_mailbox_that_is_down_does_not_hold_up_the_others(mailbox, smtp_sink, make_app):
    app = make_app(
        sink=smtp_sink,
        extra=mailboxes_toml(
            ("down", free_port(), "nobody@example.test", "down@desk.example"),
            ("support", mailbox.server.port, mailbox.user, "help@desk.example"),
        ),
    )
    mailbox.deliver(make_mail(subject="still answered"))

    with pytest.raises(TemporaryFailure, match="unreachable"):
        poller.poll_once(app)

    assert show(app, 1)["subject"] == "still answered"
    assert mailbox.count("INBOX") == 0 and mailbox.count("Processed") == 1


def test_cli_filters_by_mailbox_and_names_the_configured_ones(
    mailbox, sales, smtp_sink, make_app, tmp_path
):
    app = make_app(
        sink=smtp_sink,
        extra=mailboxes_toml(
            ("support", mailbox.server.port, mailbox.user, "help@desk.example"),
            ("sales", sales.server.port, sales.user, "sales@desk.example"),
        ),
    )
    mailbox.deliver(make_mail(subject="support question"))
    sales.deliver(make_mail(subject="sales question"))
    cycle(app)
    config = tmp_path / "maildesk.toml"

    listed = maildesk_in_process("tickets", "list", "--mailbox", "sales", "--json", config=config)
    counted = maildesk_in_process("stats", "--mailbox", "support", "--json", config=config)
    unknown = maildesk_in_process("tickets", "list", "--mailbox", "billing", config=config)

    assert [t["subject"] for t in json.loads(listed.stdout)] == ["sales question"]
    assert json.loads(counted.stdout)["tickets"] == 1
    assert unknown.returncode != 0
    assert "no mailbox called 'billing' (configured: support, sales)" in unknown.stderr
