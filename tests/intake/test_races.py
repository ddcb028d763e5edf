"""Two workers storing the same mail at the same moment, on PostgreSQL for real.

The first worker's transaction is held open after it stored the mail; the
second, with the same Message-ID under another UID, then waits on the unique
index. Once the first commits, the second must count a duplicate: one entry,
one acknowledgement, nothing quarantined. SQLite cannot interleave like this
(one writer at a time), so these run on PostgreSQL only.
"""

import logging

import pytest

from maildesk.intake.pipeline import Outcome
from tests.conftest import make_mail
from tests.support import race, stats

pytestmark = [
    pytest.mark.parametrize("database_kind", ["postgresql"], indirect=True),
    pytest.mark.one_database("SQLite has one writer at a time: no two workers interleave"),
]


def test_same_message_id_stored_by_two_workers_at_once_is_one_entry(
    make_app, database_url, caplog
):
    caplog.set_level(logging.DEBUG, logger="maildesk.intake.pipeline")
    first, second = make_app(), make_app()
    raw = make_mail(subject="sent to two addresses of the desk").as_bytes()
    # The copy in the other mailbox: other bytes (its own delivery header), same Message-ID.
    copy = b"Delivered-To: sales@desk.example\r\n" + raw
    outcomes = race(database_url, (first, raw, "imap:a#1:1"), (second, copy, "imap:b#1:7"))
    assert outcomes == (Outcome.STORED, Outcome.DUPLICATE)
    counted = stats(first)
    assert counted["tickets"] == 1 and counted["messages"] == 1
    assert counted["quarantined"] == 0
    assert counted["outbox"]["pending"] == 1, "one acknowledgement"
    assert "another worker stored it first" in caplog.text, "the unique index decided"
