"""Mutated corpus mails through `maildesk run` (bench/fuzz_daemon.py at 10 000): the
daemon never stops, and each mail is stored or quarantined, none lost. Dovecot for IMAP,
the database a SQLite file."""

import pytest

from tests.conftest import make_mail
from tests.daemon.test_process import HANG, start_daemon, stop
from tests.mutate import append_each, seeded_mutations
from tests.support import count, wait_until

MAILS = 200
SEED = 22  # the number: any seed will do, one keeps the run the same


RECEIPTS = {
    "stored": "SELECT count(*) FROM receipts WHERE outcome = 'stored'",
    "quarantined": "SELECT count(*) FROM receipts WHERE outcome = 'quarantined'",
    "duplicate": "SELECT count(*) FROM receipts WHERE outcome = 'duplicate'",
}


def outcomes(database_url: str) -> dict[str, int]:
    """The daemon's receipts by outcome: one for each mail it handled."""
    return {outcome: count(database_url, query) for outcome, query in RECEIPTS.items()}


@pytest.mark.parametrize("database_kind", ["sqlite"])  # both databases: test_fuzz_intake.py
def test_every_fuzzed_mail_is_stored_or_quarantined_by_the_running_daemon(
    tmp_path, database_url, mailbox, smtp_sink, make_app
):
    make_app(mailbox, smtp_sink)
    daemon = start_daemon(tmp_path / "maildesk.toml")
    try:
        with mailbox.connect() as box:
            appended, refused = append_each(box, seeded_mutations(MAILS, SEED))
        wait_until(lambda: sum(outcomes(database_url).values()) >= appended, HANG)
        assert daemon.poll() is None, "the daemon still runs"
        mailbox.deliver(make_mail(sender="new@customer.example", subject="after the fuzz"))
        wait_until(lambda: any("after the fuzz" in m["Subject"] for m in smtp_sink.messages))
    finally:
        code = stop(daemon)
    assert code == 0
    assert appended + refused == MAILS and appended > 0.9 * MAILS
    found = outcomes(database_url)
    assert found["stored"] + found["quarantined"] == appended + 1
    assert found["duplicate"] == 0, "each mutation has a Message-ID of its own"
    assert count(database_url, "SELECT count(*) FROM quarantine") == found["quarantined"]
    assert mailbox.count("INBOX") == 0
    assert mailbox.count("Quarantine") == found["quarantined"]
    assert mailbox.count("Processed") == found["stored"]
