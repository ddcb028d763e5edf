"""actions.py: an agent's command block checked against the desk, then applied all at once.

Commands as an agent's reply or `tickets update` give them (actions.execute), on tickets
opened through intake, on both databases. Lines that do not parse are
tests/desk/test_commands.py's; the block's effects over mail (status, priority, note,
assign, tags, merge, cc, escalate) are in tests/desk/test_agent_reply.py.
"""

import pytest

from maildesk.desk.commands import CommandError
from tests.desk.sla.desk import agent_does, customer_writes
from tests.support import desk_toml, events, show

BOSS = "boss@desk.example"  # the one lead of the desk


@pytest.fixture
def app(make_app):
    """Tickets 1 (Lin's) and 2 (Wang's) open; ticket 3 merged into ticket 2."""
    app = make_app(extra=desk_toml())
    for n in range(3):
        customer_writes(app, subject=f"printer {n}", sender=f"c{n}@customer.example")
    agent_does(app, 3, "#merge 2\n#note")
    return app


@pytest.mark.parametrize(
    ("line", "actor", "why"),
    [
        ("#team sales", "lin@desk.example", "no team called 'sales'"),
        ("#assign Zhao", "lin@desk.example", "no agent called 'Zhao'"),
        ("#assign me", "cli", "'me' needs an agent: name one"),
        ("#merge 3", "lin@desk.example", "that ticket was merged itself"),
        ("#escalate too slow", BOSS, "no lead to escalate to"),
    ],
    ids=["team", "agent", "me-without-an-agent", "merged-survivor", "no-other-lead"],
)
def test_a_line_the_desk_cannot_carry_out_refuses_the_whole_block(app, line, actor, why):
    with pytest.raises(CommandError) as refused:
        agent_does(app, 1, f"#priority P1\n#tag seen\n{line}\n#note", agent=actor)
    assert (refused.value.line, refused.value.reason) == (line, why)
    ticket = show(app, 1)
    assert (ticket["priority"], ticket["tags"], ticket["merged_into"]) == ("P2", [], None)
    assert {e["kind"] for e in ticket["events"]} == {"opened", "assigned"}, "no trace"


def test_assign_takes_me_an_address_or_a_name_in_any_case(app):
    agent_does(app, 1, "#assign me", agent="wang@desk.example")
    agent_does(app, 1, "#assign LIN")
    agent_does(app, 1, f"#assign {BOSS.upper()}")
    assert events(app, 1, "assigned")[1:] == [
        "lin@desk.example -> wang@desk.example",
        "wang@desk.example -> lin@desk.example",
        f"lin@desk.example -> {BOSS}",
    ]


def test_the_block_is_recorded_with_its_source_and_only_real_changes_are_events(app):
    agent_does(app, 1, "#status open\n#priority P2\n#team support\n#tag vip\n#note\n\nAll fine.")
    agent_does(app, 1, "Just words, no commands.")
    assert events(app, 1, "commands") == [
        "#status open; #priority P2; #team support; #tag vip; #note (from <test>)"
    ]
    for unchanged in ("status", "priority", "team"):
        assert events(app, 1, unchanged) == [], unchanged
    assert events(app, 1, "note") == ["All fine."] and show(app, 1)["tags"] == ["vip"]


def test_a_new_team_and_a_close_reason_are_recorded(app):
    agent_does(app, 2, "#team billing\n#close duplicate\n#note")
    ticket = show(app, 2)
    assert (ticket["team"], ticket["status"]) == ("billing", "closed")
    assert events(app, 2, "team") == ["support -> billing"]
    assert events(app, 2, "closed_as") == ["duplicate"]
    assert events(app, 2, "status") == ["open -> closed"]
