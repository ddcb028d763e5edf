"""Loop budget and no-reply senders: the decision alone, its counts, and the whole flow.

The flow tests run on real Dovecot and aiosmtpd; time moves by the injected clock.
"""

from datetime import timedelta

import pytest

from maildesk import config
from maildesk.desk import loops
from maildesk.mail import ids
from maildesk.store import db
from maildesk.store.tables import OutboxKind, OutboxMail, OutboxRecipient, OutboxStatus, Ticket
from maildesk.views import records
from tests.conftest import KEYS, T0, make_mail
from tests.support import cycle

ANN = "ann@customer.example"
TO_ANN = (ANN,)
BUDGET = config.LoopsConfig(max_per_address_per_day=3, max_per_ticket_per_hour=2)


def suppressed(app, number: int) -> list[str]:
    with db.transaction(app.sessions) as session:
        detail = records.ticket_detail(session, number)
    return [e["detail"] for e in detail["events"] if e["kind"] == "auto_reply_suppressed"]


def ticket_count(app) -> int:
    with db.transaction(app.sessions) as session:
        return records.stats(session)["tickets"]


# The decision, pure.


def test_under_budget_may_send():
    assert loops.refusal(BUDGET, TO_ANN, False, loops.Recent(to_address=2, on_ticket=1)) is None


def test_address_budget_is_per_day():
    why = loops.refusal(BUDGET, TO_ANN, False, loops.Recent(to_address=3, on_ticket=0))
    assert why == f"3 automatic mails to {ANN} in 24 h (loops.max_per_address_per_day = 3)"


def test_ticket_budget_is_per_hour():
    why = loops.refusal(BUDGET, TO_ANN, False, loops.Recent(to_address=0, on_ticket=2))
    assert "loops.max_per_ticket_per_hour = 2" in why


def test_bouncing_address_gets_nothing():
    assert loops.refusal(BUDGET, TO_ANN, True, loops.Recent(0, 0)) == f"mail to {ANN} bounces"


def test_domain_cap_is_per_day_and_zero_turns_it_off():
    capped = config.LoopsConfig(max_per_domain_per_day=3)
    why = loops.refusal(capped, TO_ANN, False, loops.Recent(0, 0, to_domain=3))
    assert why == "3 automatic mails to the domain customer.example in 24 h" + (
        " (loops.max_per_domain_per_day = 3)"
    )
    off = config.LoopsConfig(max_per_domain_per_day=0)
    assert loops.refusal(off, TO_ANN, False, loops.Recent(0, 0, to_domain=10**6)) is None


def test_address_budget_names_the_mailbox_a_sub_address_reaches():
    why = loops.refusal(BUDGET, ("Ann+x@customer.example",), False, loops.Recent(3, 0))
    assert why.startswith(f"3 automatic mails to {ANN} (which Ann+x@customer.example reaches)")


def test_the_desks_own_addresses_get_no_automatic_mail():
    why = loops.refusal(BUDGET, ("support@desk.example",), False, loops.Recent(0, 0), own=True)
    assert why == "support@desk.example is one of the desk's own addresses"


def test_own_addresses_are_every_mailbox_team_sender_and_the_return_path():
    found = config.parse(
        {
            "desk": {"name": "Desk"},
            "database": {"url": "sqlite://"},
            "smtp": {"host": "h", "from_address": "support@desk.example"},
            "mailboxes": [
                {"name": "sales", "host": "h", "username": "u", "password_env": "P"}
                | {"address": "Sales@Desk.Example"}
            ],
            "teams": [{"name": "billing", "address": "billing@desk.example"}],
            "bounces": {"return_path": "bounces@mx.desk.example"},
        }
    )
    for address in (
        "support@desk.example",
        "support+test@desk.example",
        "SALES@desk.example",
        "billing@desk.example",
        "bounces@mx.desk.example",
        "bounces+1-0123456789abcdef@mx.desk.example",
    ):
        assert loops.is_own(found, address), address
    assert not loops.is_own(found, ANN)
    assert not loops.is_own(found, "support@desk.example.attacker.test")


def test_zero_budget_turns_automatic_mail_off():
    off = config.LoopsConfig(max_per_address_per_day=0)
    assert loops.refusal(off, TO_ANN, False, loops.Recent(0, 0)) is not None


@pytest.mark.parametrize(
    "address",
    [
        "noreply@shop.example",
        "no-reply@shop.example",
        "No_Reply@shop.example",
        "noreply+orders@shop.example",
        "do-not-reply@bank.example",
        "MAILER-DAEMON@mx.example",
        "postmaster@mx.example",
        "bounces+123@lists.example",
    ],
)
def test_no_reply_addresses_never_get_automatic_mail(address):
    why = loops.refusal(config.LoopsConfig(), (address,), False, loops.Recent(0, 0))
    assert why == f"{address} is a no-reply address"


@pytest.mark.parametrize("address", [ANN, "reply@shop.example", "noreplyman.fan@x.example"])
def test_ordinary_addresses_may_get_automatic_mail(address):
    assert loops.refusal(config.LoopsConfig(), (address,), False, loops.Recent(0, 0)) is None


@pytest.mark.parametrize(
    ("to", "why"),
    [
        ((), "automatic mail goes to one address, not 0"),
        ((ANN, "bob@customer.example"), "automatic mail goes to one address, not 2"),
        (("",), "no address to send to"),
        (("not-an-address",), "not an address we deliver to (no domain): not-an-address"),
        (
            ('"x,victim@target.test"@attacker.test',),
            "not an address we deliver to (a quoted local part): "
            '"x,victim@target.test"@attacker.test',
        ),
        (
            ("a@x.example\r\nBcc: v@target.test",),
            "not an address we deliver to (a control character or line break): "
            "a@x.example Bcc: v@target.test",
        ),
    ],
)
def test_only_one_deliverable_address_gets_automatic_mail(to, why):
    assert loops.refusal(config.LoopsConfig(), to, False, loops.Recent(0, 0)) == why


# The counts, on a real database file.


def _row(ticket: Ticket, kind: OutboxKind, to: str, age: timedelta, status=OutboxStatus.SENT):
    envelope = loops.envelope(config.LoopsConfig(), kind, [to], T0 - age)
    return OutboxMail(
        kind=kind,
        ticket_id=ticket.id,
        message_id=f"<{kind}.{to}.{age.total_seconds()}@test>",
        sender="support@desk.example",
        recipients=[OutboxRecipient(**row) for row in envelope],
        raw=b"",
        status=status,
        attempts=1,
        next_attempt_at=T0 - age,
        created_at=T0 - age,
    )


def test_counts_only_automatic_customer_mail_inside_the_windows(make_app):
    app = make_app()
    with db.transaction(app.sessions) as session:
        ticket, other = (
            Ticket(
                number=n,
                status="open",
                priority="P2",
                customer=ANN,
                locale="en",
                created_at=T0,
                updated_at=T0,
            )
            for n in (1, 2)
        )
        session.add_all([ticket, other])
        session.flush()
        session.add_all(
            [
                _row(ticket, OutboxKind.ACK, ANN, timedelta(minutes=10)),
                _row(ticket, OutboxKind.SURVEY, ANN, timedelta(minutes=50), OutboxStatus.FAILED),
                _row(other, OutboxKind.STATUS_UPDATE, ANN, timedelta(hours=23)),
                _row(ticket, OutboxKind.ACK, ANN, timedelta(hours=24)),
                _row(ticket, OutboxKind.AGENT_REPLY, ANN, timedelta(minutes=1)),
                _row(ticket, OutboxKind.ESCALATION, "lead@desk.example", timedelta(minutes=1)),
                _row(other, OutboxKind.ACK, "bob@customer.example", timedelta(minutes=1)),
            ]
        )
        session.flush()
        found = loops.count_recent(session, config.LoopsConfig(), ANN, ticket.id, T0)
        assert found == loops.Recent(to_address=3, on_ticket=2, to_domain=4)
        capped = config.LoopsConfig(max_per_address_per_day=2, max_per_domain_per_day=3)
        found = loops.count_recent(session, capped, "Ann+x@Customer.Example", ticket.id, T0)
        assert found == loops.Recent(to_address=2, on_ticket=2, to_domain=3), "up to the caps"


# The whole flow: mail in over IMAP, acks out over SMTP.


def test_address_budget_per_day_then_restored(mailbox, smtp_sink, make_app, clock):
    app = make_app(mailbox, smtp_sink, extra="[loops]\nmax_per_address_per_day = 2\n")
    mailbox.deliver(
        make_mail(subject="first"),
        make_mail(subject="second"),
        make_mail(sender="bob@customer.example", subject="bob's"),
        make_mail(subject="third"),
    )
    cycle(app)
    assert ticket_count(app) == 4, "every mail is stored"
    assert sorted(m["Subject"] for m in smtp_sink.messages) == [
        "[Ticket#1] first",
        "[Ticket#2] second",
        "[Ticket#3] bob's",
    ]
    [why] = suppressed(app, 4)
    assert why.startswith("ack not sent: 2 automatic mails to ann@customer.example in 24 h")

    clock.advance(hours=23)
    mailbox.deliver(make_mail(subject="fourth"))
    cycle(app)
    assert len(smtp_sink.received) == 3 and len(suppressed(app, 5)) == 1

    clock.advance(hours=1, minutes=1)
    mailbox.deliver(make_mail(subject="fifth"))
    cycle(app)
    assert smtp_sink.messages[-1]["Subject"] == "[Ticket#6] fifth"
    assert suppressed(app, 6) == []


def test_ticket_budget_per_hour_with_acked_follow_ups(mailbox, smtp_sink, make_app, clock):
    extra = "[intake]\nack_follow_ups = true\n[loops]\nmax_per_ticket_per_hour = 2\n"
    app = make_app(mailbox, smtp_sink, extra=extra)
    mailbox.deliver(make_mail(subject="Printer jam"))
    cycle(app)
    clock.advance(minutes=10)
    mailbox.deliver(
        make_mail(subject="Re: [Ticket#1] Printer jam", body="again"),
        make_mail(subject="Re: [Ticket#1] Printer jam", body="and again"),
    )
    cycle(app)
    assert ticket_count(app) == 1 and len(smtp_sink.received) == 2
    [why] = suppressed(app, 1)
    assert "2 automatic mails on this ticket in 1 h" in why

    mailbox.deliver(make_mail(subject="Another problem"))
    cycle(app)
    assert smtp_sink.messages[-1]["Subject"] == "[Ticket#2] Another problem", "other tickets"

    clock.advance(minutes=51)
    mailbox.deliver(make_mail(subject="Re: [Ticket#1] Printer jam", body="still"))
    cycle(app)
    assert smtp_sink.messages[-1]["Subject"] == "[Ticket#1] Printer jam"


def test_no_reply_senders_get_no_ack_but_their_tickets_are_stored(mailbox, smtp_sink, make_app):
    app = make_app(mailbox, smtp_sink)
    mailbox.deliver(
        make_mail(sender="Shop <noreply@shop.example>", subject="Your order"),
        make_mail(sender="MAILER-DAEMON@mx.example", subject="Hello"),
        make_mail(sender="do-not-reply@bank.example", subject="Statement"),
    )
    cycle(app)
    assert ticket_count(app) == 3 and smtp_sink.received == []
    assert "noreply@shop.example is a no-reply address" in suppressed(app, 1)[0]
    assert "do-not-reply@bank.example is a no-reply address" in suppressed(app, 3)[0]


def test_no_reply_regex_can_be_replaced(mailbox, smtp_sink, make_app):
    app = make_app(mailbox, smtp_sink, extra='[loops]\nno_reply_regex = "(?i)^robot@"\n')
    mailbox.deliver(make_mail(sender="robot@factory.example"), make_mail())
    cycle(app)
    assert [rcpts for _, rcpts, _ in smtp_sink.received] == [[ANN]]
    assert "robot@factory.example is a no-reply address" in suppressed(app, 1)[0]


def test_acks_carry_the_loop_headers_and_a_ticket_reference(mailbox, smtp_sink, make_app):
    app = make_app(mailbox, smtp_sink)
    mail = make_mail()
    mailbox.deliver(mail)
    cycle(app)
    ack = smtp_sink.messages[0]
    assert ack["References"].split() == ["<ticket-1@desk.example>", mail["Message-ID"]]
    assert (ack["Auto-Submitted"], ack["Precedence"]) == ("auto-replied", "bulk")
    assert (ack["X-Auto-Response-Suppress"], ack["X-Maildesk-Loop"]) == ("All", "desk.example")
    assert ids.ticket_number(KEYS, ack["Message-ID"]) == 1
