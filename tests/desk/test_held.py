"""held.py: a batch's rows are held and written at its end; a mail that rolls back takes
its own rows with it, never the rows of the mails before it, even when a reader wrote
them inside its savepoint."""

import pytest

from maildesk.desk import held, tickets
from maildesk.desk.follow_up import by_number
from maildesk.intake import pipeline
from maildesk.intake.pipeline import Outcome, Pending
from tests.conftest import make_mail
from tests.support import events


class MailFault(Exception):
    """The failure of one mail, after some of its work was done."""


def test_a_rolled_back_mail_drops_its_held_rows_and_keeps_the_others(make_app) -> None:
    app = make_app()
    mail = Pending(make_mail(subject="Printer jams").as_bytes(), "test:1")
    assert pipeline.process_batch(app, [mail]) == [Outcome.STORED]
    now = app.clock()
    with pipeline.unit_of_work(app) as (session, desk):
        ticket = by_number(session, 1)
        assert ticket is not None
        batch = desk.batch
        tickets.record(session, batch, ticket, "note", "first mail", "test", now)
        with pytest.raises(MailFault), batch.savepoint(session):
            tickets.record(session, batch, ticket, "note", "failed mail", "test", now)
            held.flush(session, batch)  # a reader writes what is held: the first mail's too
            tickets.record(session, batch, ticket, "note", "failed mail, later", "test", now)
            raise MailFault
        assert held.waiting(batch, "events")[0]["detail"] == "first mail"
        tickets.record(session, batch, ticket, "note", "third mail", "test", now)
    assert events(app, 1, "note") == ["first mail", "third mail"]
