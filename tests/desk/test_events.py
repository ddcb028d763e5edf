"""The event table: each ticket change is announced once, its reactions run in the table's
order; a unit of work's Batch rolls back with the mail's savepoint."""

from contextlib import nullcontext
from dataclasses import replace

import pytest
from sqlalchemy import select

from maildesk.desk import actions, events
from maildesk.desk.batch import Batch
from maildesk.desk.subscriptions import REACTIONS
from maildesk.intake import pipeline
from maildesk.intake.pipeline import Pending
from maildesk.store.db import transaction
from maildesk.store.deadline_tables import SlaClock, Survey
from maildesk.store.tables import Contact, OutboxMail, Ticket
from tests.conftest import make_mail


def recording(seen: list[str]):
    """REACTIONS with a first reaction per event that notes its name (and cause)."""

    def note(session, desk, event, now) -> None:
        cause = getattr(event, "cause", None)
        seen.append(type(event).__name__ + (f":{cause}" if cause else ""))

    return {kind: (note, *reactions) for kind, reactions in REACTIONS.items()}


def test_a_ticket_life_announces_each_change_once(make_app, smtp_sink) -> None:
    app = make_app(sink=smtp_sink)
    seen: list[str] = []
    desk = replace(app.desk(), reactions=recording(seen))
    with transaction(app.sessions, write=True) as session:
        raw = make_mail(subject="Printer on fire").as_bytes()
        pipeline.process_in(session, app, desk, Pending(raw, "test:1"), app.clock())
        ticket = session.scalars(select(Ticket)).one()
        for block in ("#priority P1\n#status pending\n\nLog?", "#resolve new cartridge\n\nFixed."):
            actions.execute(session, desk, ticket, block, "wang@desk.example", "<t>", app.clock())
        survey = session.scalars(select(Survey).where(Survey.ticket_id == ticket.id)).one()
        clocks = {row.clock: row.state for row in session.scalars(select(SlaClock))}
    assert seen == [
        "Opened",
        "TargetsChanged",
        "StatusChanged:agent",  # open -> pending
        "StatusChanged:agent",  # pending -> resolved: one event per move, never two
    ]
    assert survey.ticket_id == ticket.id, "the resolution scheduled its survey (a reaction)"
    assert clocks["resolution"] == "met"


def test_a_table_without_reactions_changes_only_the_ticket(make_app, smtp_sink) -> None:
    """What follows a change is the table's: with none listed, no clock, survey or mail."""
    app = make_app(sink=smtp_sink)
    desk = replace(app.desk(), reactions={})
    with transaction(app.sessions, write=True) as session:
        raw = make_mail().as_bytes()
        pipeline.process_in(session, app, desk, Pending(raw, "test:1"), app.clock())
        ticket = session.scalars(select(Ticket)).one()
        actions.execute(
            session, desk, ticket, "#resolve done", "wang@desk.example", "<t>", app.clock()
        )
        assert ticket.status == "resolved"
        assert session.scalars(select(SlaClock)).all() == []
        assert session.scalars(select(Survey)).all() == []
        kinds = [row.kind for row in session.scalars(select(OutboxMail))]
    assert kinds == ["ack"], "only intake's acknowledgement, no status update"


@pytest.mark.parametrize("fails", [False, True])
def test_batch_keeps_what_its_savepoint_kept(make_app, fails: bool) -> None:
    app = make_app()
    batch = Batch(threads={7: ["<a@x>"]}, ledger=[{"row": 1}], bouncing={"old@x.example"})
    with transaction(app.sessions, write=True) as session:
        failing = pytest.raises(RuntimeError) if fails else nullcontext()
        with failing, batch.savepoint(session):
            batch.threads[7].append("<b@x>")
            batch.ledger.append({"row": 2})
            batch.bouncing.add("new@x.example")
            session.add(Contact(address="new@x.example", bouncing=True, bounce_count=1))
            if fails:
                raise RuntimeError("the mail's fault")
        stored = session.scalars(select(Contact.address)).all()
    if fails:
        assert batch.threads == {7: ["<a@x>"]} and batch.ledger == [{"row": 1}]
        assert batch.bouncing is None, "read again from the database, which rolled back too"
        assert stored == []
    else:
        assert batch.threads == {7: ["<a@x>", "<b@x>"]} and len(batch.ledger) == 2
        assert batch.bouncing == {"old@x.example", "new@x.example"}
        assert stored == ["new@x.example"]


def test_every_event_type_has_its_reactions_listed() -> None:
    listed = set(REACTIONS)
    declared = set(events.TicketEvent.__args__)
    assert listed == declared, "an event nobody subscribes to, or a table entry for no event"
