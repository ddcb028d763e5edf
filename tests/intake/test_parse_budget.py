"""Over IMAP: a mail past its parse budget, or too large, is quarantined and the rest go on.

Dovecot in, a real SQLite file; the crafted mails come from tests/mail/crafted.py.
"""

from sqlalchemy import select

from maildesk.intake import poller
from maildesk.intake.pipeline import Outcome
from maildesk.store import db
from maildesk.store.intake_tables import Quarantine
from tests.conftest import make_mail
from tests.mail.crafted import runaway_attack, with_winmail
from tests.support import metric_series


def quarantine_reasons(app) -> list[str]:
    with db.transaction(app.sessions) as session:
        return [row.reason for row in session.scalars(select(Quarantine).order_by(Quarantine.id))]


def test_runaway_attachment_over_imap_is_quarantined_and_the_queue_goes_on(mailbox, make_app):
    app = make_app(mailbox, extra="[intake]\nparse_seconds = 1\n")
    mailbox.deliver(with_winmail(runaway_attack(), "crafted"), make_mail(subject="next customer"))
    result = poller.poll_once(app)
    assert result.outcomes == {Outcome.QUARANTINED: 1, Outcome.STORED: 1}
    (reason,) = quarantine_reasons(app)
    assert "intake.parse_seconds = 1 s" in reason
    counted = metric_series(app.meter.exposition()[0])
    assert counted["maildesk_parse_kills_total"] == 1
    assert counted['maildesk_mails_quarantined_total{mailbox="default"}'] == 1
    assert mailbox.count("Quarantine") == 1 and mailbox.count("Processed") == 1
    assert poller.poll_once(app).handled == 0, "a restart does not meet it again"


def test_oversized_mail_is_kept_raw_and_quarantined_with_the_reason(mailbox, make_app):
    app = make_app(mailbox, extra="[intake]\nmax_message_bytes = 4000\n")
    huge = make_mail(subject="huge", body="x" * 5000)
    mailbox.deliver(huge, make_mail(subject="small"))
    result = poller.poll_once(app)
    assert result.outcomes == {Outcome.QUARANTINED: 1, Outcome.STORED: 1}
    with db.transaction(app.sessions) as session:
        row = session.scalar(select(Quarantine))
        assert len(row.raw.data) > 4000 and b"Subject: huge" in row.raw.data, "kept whole"
        assert "over intake.max_message_bytes = 4000" in row.reason
    assert mailbox.count("Quarantine") == 1
