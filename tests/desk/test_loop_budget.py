"""The loop budget counts mailboxes and domains, and the desk's own addresses get no
automatic mail: the whole flow, mail in over Dovecot, acks out over aiosmtpd."""

from tests.conftest import make_mail
from tests.desk.test_loops import suppressed, ticket_count
from tests.support import cycle, desk_toml


def acked(sink) -> list[list[str]]:
    """The envelopes of the acknowledgements sent (not the agents' notifications)."""
    return [r for _, r, message in sink.received if message["Auto-Submitted"] == "auto-replied"]


def test_sub_addresses_and_case_share_one_mailbox_budget(mailbox, smtp_sink, make_app):
    app = make_app(mailbox, smtp_sink, extra="[loops]\nmax_per_address_per_day = 2\n")
    mailbox.deliver(
        make_mail(sender="victim@target.test", subject="one"),
        make_mail(sender="VICTIM+1@Target.Test", subject="two"),
        make_mail(sender="victim+2@target.test", subject="three"),
    )
    cycle(app)
    assert acked(smtp_sink) == [["victim@target.test"], ["victim+1@target.test"]]
    [why] = suppressed(app, 3)
    assert why.startswith(
        "ack not sent: 2 automatic mails to victim@target.test "
        "(which victim+2@target.test reaches) in 24 h"
    )


def test_without_a_separator_sub_addresses_count_apart(mailbox, smtp_sink, make_app):
    extra = '[loops]\nmax_per_address_per_day = 1\nsubaddress_separator = ""\n'
    app = make_app(mailbox, smtp_sink, extra=extra)
    mailbox.deliver(*(make_mail(sender=f"victim+{n}@target.test") for n in range(3)))
    cycle(app)
    assert len(acked(smtp_sink)) == 3


def test_a_domain_cap_stops_acks_to_one_domain_only(mailbox, smtp_sink, make_app):
    app = make_app(mailbox, smtp_sink, extra="[loops]\nmax_per_domain_per_day = 2\n")
    mailbox.deliver(
        *(make_mail(sender=f"{name}@catchall.test", subject=name) for name in ("a", "b", "c")),
        make_mail(sender="dan@other.test", subject="dan"),
    )
    cycle(app)
    assert acked(smtp_sink) == [["a@catchall.test"], ["b@catchall.test"], ["dan@other.test"]]
    [why] = suppressed(app, 3)
    assert why == (
        "ack not sent: 2 automatic mails to the domain catchall.test in 24 h"
        " (loops.max_per_domain_per_day = 2)"
    )


def test_mail_from_our_own_addresses_is_never_acknowledged(mailbox, smtp_sink, make_app):
    extra = desk_toml() + '[bounces]\nreturn_path = "bounces@desk.example"\n'
    app = make_app(mailbox, smtp_sink, extra=extra)
    own = (
        "support@desk.example",
        "Support+Test@desk.example",
        "billing@desk.example",
        "bounces+1-0123456789abcdef@desk.example",
    )
    mailbox.deliver(*(make_mail(sender=address, subject="hello") for address in own))
    cycle(app)
    assert ticket_count(app) == 4 and acked(smtp_sink) == []
    for number, address in enumerate(own, start=1):
        [why] = suppressed(app, number)
        assert why == f"ack not sent: {address.lower()} is one of the desk's own addresses"
