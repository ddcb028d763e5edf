"""The views behind `tickets show` and `stats`, read from a real SQLite file."""

from maildesk.mail.classify import MailClass
from maildesk.store import db
from maildesk.store.tables import Direction, Message, Status, Ticket
from maildesk.views import records
from tests.conftest import T0


def store_ticket(app, texts: list[tuple[str, str]]) -> None:
    """Ticket 1 with one incoming message per (new text, full text)."""
    incoming = {"direction": Direction.IN, "mail_class": MailClass.HUMAN, "created_at": T0}
    messages = [Message(text=text, full_text=full, **incoming) for text, full in texts]
    ticket = Ticket(
        number=1,
        status=Status.OPEN,
        priority="P2",
        customer="ann@customer.example",
        locale="en",
        created_at=T0,
        updated_at=T0,
        messages=messages,
    )
    with db.transaction(app.sessions) as session:
        session.add(ticket)


def test_tickets_show_gives_the_full_text_when_the_new_text_is_empty(make_app) -> None:
    app = make_app()
    store_ticket(app, [("", "> Which tray?\nTray 2."), ("Floor 3.", "Floor 3.\n\n> Which floor?")])
    with db.transaction(app.sessions) as session:
        shown = [m["text"] for m in records.ticket_detail(session, 1)["messages"]]
    assert shown == ["> Which tray?\nTray 2.", "Floor 3."]
