"""routing.py: the team of a new ticket, its assignee inside the team, and its leads.

Mail in through intake on both databases (the desk of tests/support.desk_toml: Lin and
Wang in support, lead Boss, billing@ for team billing, assigned by hand). Round robin in
turn, least_open against a resolved ticket and the leads of a team with one are in
tests/desk/test_agent_notify.py.
"""

import pytest
from sqlalchemy import select

from maildesk.intake import poller
from maildesk.store import db
from maildesk.store.tables import OutboxKind, OutboxMail, Ticket
from tests.conftest import make_mail
from tests.desk.sla.desk import agent_does, customer_writes
from tests.intake.test_mailboxes import mailboxes_toml
from tests.support import desk_toml, show

CHIEF = '\n[[agents]]\nemail = "chief@desk.example"\nname = "Chief"\nrole = "lead"\n'


def routed(app, number: int) -> tuple[str | None, str | None]:
    ticket = show(app, number)
    return ticket["team"], ticket["assignee"]


@pytest.mark.parametrize(
    ("mail", "team", "assignee"),
    [
        ({"sender": "v@vip.example", "to": "billing@desk.example"}, "key-accounts", None),
        ({"Cc": "Billing@Desk.Example"}, "billing", None),
        ({}, "support", "lin@desk.example"),
    ],
    ids=["a-rule-over-the-address", "a-team-address-in-cc", "the-default-team"],
)
def test_a_rules_team_wins_then_a_team_address_written_to_then_the_default(
    mail, team, assignee, make_app
):
    app = make_app(extra=desk_toml())  # the suite's rule "vip": vip.example -> key-accounts
    assert routed(app, customer_writes(app, **mail)) == (team, assignee)


def test_a_team_address_written_to_wins_over_the_mailboxs_team(mailbox, make_app):
    entry = ("help", mailbox.server.port, mailbox.user, "help@desk.example")
    app = make_app(extra=desk_toml() + mailboxes_toml(entry))
    mailbox.deliver(make_mail(subject="invoice", to="billing@desk.example"))
    mailbox.deliver(make_mail(subject="printer", to="help@desk.example"))
    assert poller.poll_once(app).outcomes == {"stored": 2}
    assert (show(app, 1)["team"], show(app, 2)["team"]) == ("billing", "help-team")


def test_round_robin_goes_on_after_whoever_in_the_team_holds_its_last_ticket(make_app):
    app = make_app(extra=desk_toml())
    first = customer_writes(app, subject="one")
    agent_does(app, first, "#assign Wang")  # Lin's turn passed to Wang
    second = customer_writes(app, subject="two")
    agent_does(app, second, "#assign boss@desk.example")  # out of the team: not counted
    third = customer_writes(app, subject="three")
    assert [show(app, n)["assignee"] for n in (first, second, third)] == [
        "wang@desk.example",
        "boss@desk.example",
        "lin@desk.example",
    ], "after Wang, who holds ticket one"


def test_least_open_counts_pending_as_waiting_and_a_tie_goes_to_the_first_member(make_app):
    app = make_app(extra=desk_toml("least_open"))
    lin, wang = customer_writes(app, subject="one"), customer_writes(app, subject="two")
    agent_does(app, lin, "#status pending")
    agent_does(app, wang, "#resolve done")
    third = customer_writes(app, subject="three")
    fourth = customer_writes(app, subject="four")
    assert [show(app, n)["assignee"] for n in (lin, wang, third, fourth)] == [
        "lin@desk.example",
        "wang@desk.example",
        "wang@desk.example",
        "lin@desk.example",
    ]


def test_nobody_in_the_team_its_leads_are_told_and_with_no_leads_every_lead(make_app):
    app = make_app(extra=desk_toml(members=False) + CHIEF)
    support = customer_writes(app, subject="printer")
    billing = customer_writes(app, subject="invoice", to="billing@desk.example")
    assert routed(app, support) == ("support", None)
    with db.transaction(app.sessions) as session:
        rows = session.execute(
            select(Ticket.number, OutboxMail)
            .join(OutboxMail, OutboxMail.ticket_id == Ticket.id)
            .where(OutboxMail.kind == OutboxKind.AGENT_NOTIFICATION)
        ).all()
        told: dict[int, list[str]] = {}
        for number, row in rows:
            told.setdefault(number, []).extend(r.address for r in row.recipients)
    assert {number: sorted(addresses) for number, addresses in told.items()} == {
        support: ["boss@desk.example"],
        billing: ["boss@desk.example", "chief@desk.example"],
    }, "support names its lead; billing names none, so every lead"
