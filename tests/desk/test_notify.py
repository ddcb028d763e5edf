"""notify's gate on arbitrary From headers: raw bytes → intake → outbox rows, real SQLite file.

The property: whenever an automatic mail is queued, its envelope is one
address that passes addresses.deliverable, and our To header is that address. Each
example counts its own rows first: one ack exactly when a stored mail's sender passes,
none otherwise, so the checks never pass on an empty outbox.
"""

from email import message_from_bytes, policy

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from maildesk.intake import pipeline
from maildesk.mail.addresses import deliverable
from maildesk.store import db
from maildesk.store.tables import OutboxMail, Ticket
from tests.mail.test_addresses import near_addresses
from tests.support import fuzz

PIECES = st.sampled_from(
    [
        "ann@customer.example",
        "bob@other.example",
        "Ann Lee ",
        '"Lee, Ann" ',
        '"x,victim@target.test"@attacker.test',
        '"x y"@a.example',
        "<",
        ">",
        ", ",
        ",",
        " ",
        "@",
        ".",
        "(comment)",
        "=?utf-8?b?QW5uLCBMZWUgPHZAdC50ZXN0Pg==?=",
        "=?utf-8?q?=0D=0ABcc:_v@t.test?=",
        "\r\n ",
        "\r\nBcc: v@t.test\r\n",
        "\t",
        "\x00",
        "张伟",
        "例子.中国",
        "group:",
        ";",
    ]
)
NAMES = st.sampled_from(["", "Ann ", '"Lee, Ann" ', "=?utf-8?b?5byg5Lyf?= ", "Ann\r\n "])
FROM_VALUES = st.one_of(
    st.lists(PIECES, max_size=6).map("".join),
    st.builds("{}<{}>".format, NAMES, st.one_of(PIECES, near_addresses())),
    near_addresses(),
    st.text(max_size=40),
)
SETTINGS = fuzz(200)


@pytest.fixture
def app(make_app):
    return make_app(extra="[loops]\nmax_per_address_per_day = 100000\n")


@SETTINGS
@given(value=FROM_VALUES)
def test_automatic_mail_goes_to_one_deliverable_address(app, value: str) -> None:
    raw = f"From: {value}\r\nSubject: hello\r\n\r\nPlease help.\r\n"
    with db.transaction(app.sessions) as session:
        before = session.scalar(select(func.max(OutboxMail.id))) or 0
    outcome = pipeline.process(app, raw.encode("utf-8", "surrogatepass"), "hypothesis")
    with db.transaction(app.sessions) as session:
        queued = session.scalars(select(OutboxMail).where(OutboxMail.id > before)).all()
        customer = session.scalar(select(Ticket.customer).order_by(Ticket.id.desc()).limit(1))
        acked = outcome is pipeline.Outcome.STORED and deliverable(customer or "") is None
        assert len(queued) == int(acked), (value, customer, outcome)
        for mail in queued:
            envelope = tuple(r.address for r in mail.recipients)
            assert len(envelope) == 1 and deliverable(envelope[0]) is None, envelope
            assert message_from_bytes(mail.raw, policy=policy.default)["To"] == envelope[0]
