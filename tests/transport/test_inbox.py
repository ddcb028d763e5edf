"""The IMAP layer on two real servers (Dovecot and pymap): UIDs, moves, crash recovery."""

import threading
from dataclasses import replace

from sqlalchemy import update

from maildesk.intake import pipeline, poller
from maildesk.store import db
from maildesk.store.intake_tables import Cursor, Receipt
from maildesk.transport.inbox import Inbox
from maildesk.views import records
from tests.conftest import make_mail


def test_inbox_lists_fetches_and_moves(any_mailbox, make_app):
    app = make_app(any_mailbox)
    first, second = make_mail(subject="one"), make_mail(subject="two")
    any_mailbox.deliver(first, second)
    with Inbox(app.config.mailboxes[0].imap) as inbox:
        uids = inbox.uids()
        assert len(uids) == 2 and uids == sorted(uids)
        assert inbox.uids(after=uids[0]) == [uids[1]]
        assert inbox.uids(after=uids[1]) == []
        raw = inbox.fetch(uids[1])
        assert first["Message-ID"].encode() not in raw and second["Message-ID"].encode() in raw
        inbox.mark_done([uids[0]], "Processed")
        assert inbox.uidvalidity() > 0
    assert any_mailbox.count("INBOX") == 1 and any_mailbox.count("Processed") == 1


def test_crash_between_commit_and_move_is_finished_without_a_second_entry(any_mailbox, make_app):
    app = make_app(any_mailbox)
    any_mailbox.deliver(make_mail(subject="committed, not moved"))
    with Inbox(app.config.mailboxes[0].imap) as inbox:  # the first run dies right after its commit
        validity, uid = inbox.uidvalidity(), inbox.uids()[0]
        record = poller.receipt_writer(inbox.key, validity, uid)
        pipeline.process(app, inbox.fetch(uid), "imap", bookkeeping=record)
    assert any_mailbox.count("INBOX") == 1

    result = poller.poll_once(app)

    assert result.handled == 0, "already handled: only moved"
    assert any_mailbox.count("INBOX") == 0 and any_mailbox.count("Processed") == 1
    with db.transaction(app.sessions) as session:
        assert records.stats(session)["messages"] == 1


class StopAfter(threading.Event):
    """A stop request that arrives after `checks` looks (SIGTERM while a chunk is in hand)."""

    def __init__(self, checks: int) -> None:
        super().__init__()
        self.checks = checks

    def is_set(self) -> bool:
        self.checks -= 1
        return self.checks < 0


def test_stop_mid_chunk_moves_what_was_handled_and_the_rest_waits(mailbox, make_app):
    app = make_app(mailbox)
    mailbox.deliver(*(make_mail(subject=f"mail {n}") for n in range(3)))
    mailbox.deliver(b"\x01\x02 not a mail\r\n")

    first = poller.poll_once(app, stop=StopAfter(1))

    assert first.handled == 1
    assert mailbox.count("Processed") == 1 and mailbox.count("INBOX") == 3
    rest = poller.poll_once(app)
    assert rest.outcomes == {"stored": 2, "quarantined": 1}
    assert mailbox.count("INBOX") == 0 and mailbox.count("Processed") == 3
    assert mailbox.count("Quarantine") == 1


def test_flag_mode_uses_the_cursor_and_survives_a_uidvalidity_change(mailbox, make_app):
    app = make_app(mailbox)
    (configured,) = app.config.mailboxes
    flagging = replace(configured, imap=replace(configured.imap, processed_folder=""))
    app.config = replace(app.config, mailboxes=(flagging,))
    mailbox.deliver(make_mail(subject="a"), make_mail(subject="b"))
    assert poller.poll_once(app).handled == 2
    mailbox.deliver(make_mail(subject="c"))
    assert poller.poll_once(app).handled == 1, "only the mail above the cursor"
    assert mailbox.count("INBOX") == 3

    with db.transaction(app.sessions) as session:  # as if the server renumbered
        session.execute(update(Cursor).values(uidvalidity=1))
        session.execute(update(Receipt).values(uidvalidity=1))
    result = poller.poll_once(app)

    assert result.outcomes == {"duplicate": 3}
    with db.transaction(app.sessions) as session:
        assert records.stats(session)["tickets"] == 3
