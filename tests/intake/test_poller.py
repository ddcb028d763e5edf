"""poller.py's rounds over real Dovecot: receipts by UIDVALIDITY and UID, moves by outcome,
rounds cut by count and bytes, one round's failure, UIDs another worker holds.

The crash between commit and move, a stop mid-round and the cursor of flag mode are in
tests/transport/test_inbox.py; a lock over the whole cycle in tests/intake/test_transient.py.
"""

import threading
from contextlib import ExitStack

import pytest
from sqlalchemy import select

from maildesk.errors import ConfigError, DatabaseUnavailable
from maildesk.intake import pipeline, poller
from maildesk.store import claims, db
from maildesk.store.intake_tables import Cursor, Quarantine, Receipt
from maildesk.store.tables import Direction, Message
from maildesk.transport.inbox import Inbox
from tests.conftest import make_mail
from tests.intake import test_mailboxes as mailbox_tests
from tests.intake.test_mailboxes import mailboxes_toml
from tests.support import show, stats, write_lock

sales = mailbox_tests.sales  # the fixture: a second Dovecot user
GARBAGE = b"\x00\x01 not a mail at all\r\n"


def receipts(app) -> list[tuple[str, int, int, str]]:
    with db.transaction(app.sessions) as session:
        rows = session.scalars(select(Receipt).order_by(Receipt.uid))
        return [(r.mailbox, r.uidvalidity, r.uid, r.outcome) for r in rows]


def test_each_mail_gets_a_receipt_by_uid_and_a_second_cycle_finds_nothing(mailbox, make_app):
    app = make_app(mailbox)
    first = make_mail(subject="first")
    mailbox.deliver(first, GARBAGE, first)
    with Inbox(app.config.mailboxes[0].imap) as inbox:
        key, validity, uids = inbox.key, inbox.uidvalidity(), inbox.uids()

    result = poller.poll_once(app)

    assert result.outcomes == {"stored": 1, "quarantined": 1, "duplicate": 1}
    outcomes = ["stored", "quarantined", "duplicate"]
    assert receipts(app) == [
        (key, validity, uid, o) for uid, o in zip(uids, outcomes, strict=True)
    ]
    with db.transaction(app.sessions) as session:
        stored = select(Message.source).where(Message.direction == Direction.IN)
        assert session.scalars(stored).all() == [f"imap:{key}#{validity}:{uids[0]}"]
        assert session.scalar(select(Quarantine.source)) == f"imap:{key}#{validity}:{uids[1]}"
        assert session.scalar(select(Cursor)) is None, "mail is moved: no cursor to keep"
    assert mailbox.count("INBOX") == 0
    assert mailbox.count("Processed") == 2 and mailbox.count("Quarantine") == 1
    again = poller.poll_once(app)
    assert (again.handled, again.outcomes) == (0, {})
    assert len(receipts(app)) == 3


def test_a_quarantined_mail_left_by_a_crash_is_moved_to_quarantine_and_not_taken_again(
    mailbox, make_app
):
    app = make_app(mailbox)
    mailbox.deliver(GARBAGE)
    with Inbox(app.config.mailboxes[0].imap) as inbox:  # committed, then the worker died
        validity, uid = inbox.uidvalidity(), inbox.uids()[0]
        record = poller.receipt_writer(inbox.key, validity, uid)
        assert pipeline.process(app, GARBAGE, "imap", bookkeeping=record) == "quarantined"

    assert poller.poll_once(app).handled == 0
    assert mailbox.count("INBOX") == 0 and mailbox.count("Quarantine") == 1
    assert mailbox.count("Processed") == 0 and stats(app)["quarantined"] == 1


def test_sources_name_their_mailbox_and_lead_back_to_it(mailbox, sales, make_app):
    app = make_app(
        extra=mailboxes_toml(
            ("support", mailbox.server.port, mailbox.user, "help@desk.example"),
            ("sales", sales.server.port, sales.user, "sales@desk.example"),
        )
    )
    mailbox.deliver(GARBAGE)
    sales.deliver(GARBAGE)
    assert poller.poll_once(app).outcomes == {"quarantined": 2}
    with db.transaction(app.sessions) as session:
        sources = session.scalars(select(Quarantine.source).order_by(Quarantine.id)).all()
    assert [poller.mailbox_of(app.config, s).name for s in sources] == ["support", "sales"]
    assert poller.mailbox_of(app.config, "import:backup.mbox#1") is None


def test_no_mailbox_configured_is_a_config_error(make_app):
    with pytest.raises(ConfigError, match="nothing to poll"):
        poller.poll_once(make_app())


class LockAtLook(threading.Event):
    """A stop request never made; at its `n`th look, another connection takes the lock that
    intake's first write waits for (and holds it until `release`)."""

    def __init__(self, database_url: str, n: int) -> None:
        super().__init__()
        self.url, self.looks, self.n, self.held = database_url, 0, n, ExitStack()

    def is_set(self) -> bool:
        self.looks += 1
        if self.looks == self.n:
            self.held.enter_context(write_lock(self.url))
        return False

    def release(self) -> None:
        self.held.close()


ONE_DATABASE = pytest.mark.one_database(
    "a lock taken mid-round: SQLite's round holds the one write lock itself from its start"
)


@pytest.mark.parametrize("database_kind", ["postgresql"], indirect=True)
@ONE_DATABASE
def test_rounds_are_cut_by_count_and_bytes_and_a_failed_one_leaves_its_mail(
    mailbox, make_app, database_url, monkeypatch
):
    app = make_app(mailbox, busy_timeout=0.1)
    small = [make_mail(subject=f"small {n}") for n in range(3)]
    big = make_mail(subject="big", body="x" * 200_000)
    mailbox.deliver(small[0], big, small[1], small[2])
    with Inbox(app.config.mailboxes[0].imap) as inbox:
        sizes = [size for size, _ in inbox.outline(inbox.uids()).values()]
    monkeypatch.setattr(poller, "ROUND", 3)
    monkeypatch.setattr(poller, "ROUND_BYTES", max(sizes))  # rounds: s0 | big | s1 | s2
    lock = LockAtLook(database_url, 3)  # taken in the round of small 1

    with pytest.raises(DatabaseUnavailable):
        poller.poll_once(app, stop=lock)
    lock.release()

    assert stats(app)["tickets"] == 2 and [r[3] for r in receipts(app)] == ["stored"] * 2
    assert mailbox.count("Processed") == 2 and mailbox.count("INBOX") == 2
    assert mailbox.count("Quarantine") == 0, "the lock is not the mail's fault"
    assert poller.poll_once(app).outcomes == {"stored": 2}
    assert mailbox.count("INBOX") == 0 and stats(app)["tickets"] == 4


def test_a_flooding_senders_mails_come_after_everyone_elses(mailbox, make_app):
    """One sender's storm in the listing: the customer who wrote during it goes first."""
    app = make_app(mailbox)
    storm = [f"storm {n}" for n in range(poller.FLOOD + 1)]
    flood = [make_mail(sender="Flood <FLOOD@storm.example>", subject=s) for s in storm]
    mailbox.deliver(*flood, make_mail(sender="ann@customer.example", subject="ordinary"))
    assert poller.poll_once(app).outcomes == {"stored": len(storm) + 1}
    subjects = [show(app, n)["subject"] for n in range(1, len(storm) + 2)]
    assert subjects == ["ordinary", *storm]


@pytest.mark.parametrize("database_kind", ["postgresql"], indirect=True)
@pytest.mark.one_database("UIDs are claimed by advisory locks on PostgreSQL only")
def test_a_uid_another_worker_holds_is_left_for_it(mailbox, make_app):
    app = make_app(mailbox)
    mailbox.deliver(make_mail(subject="held elsewhere"), make_mail(subject="ours"))
    with Inbox(app.config.mailboxes[0].imap) as inbox:
        key, validity, (held, ours) = inbox.key, inbox.uidvalidity(), inbox.uids()

    with claims.hold_uids(app.engine, key, validity, [held]) as other_worker:
        assert other_worker == [held]
        result = poller.poll_once(app)

    assert result.outcomes == {"stored": 1} and [r[2] for r in receipts(app)] == [ours]
    assert mailbox.count("INBOX") == 1 and mailbox.count("Processed") == 1
    assert poller.poll_once(app).outcomes == {"stored": 1}
    assert mailbox.count("INBOX") == 0
