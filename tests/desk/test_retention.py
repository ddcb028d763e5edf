"""`[retention]`: the raw mail and attachments of tickets closed N days go; the rest stays.

Time is the injected clock: tickets are closed, the clock moves on, the
daemon's retention job runs (daemon/turns.py) and the ticket view is read.
"""

import pytest
from sqlalchemy import func, select

from maildesk import config as config_module
from maildesk.daemon.turns import Turns
from maildesk.desk import follow_up
from maildesk.errors import ConfigError
from maildesk.store import db
from maildesk.store.intake_tables import Quarantine
from maildesk.store.tables import Blob, Message
from tests.desk.sla.desk import agent_does, customer_writes
from tests.support import desk_toml, events, show

RETENTION = "\n[retention]\nraw_mail_days = 30\nattachment_days = 7\n"
LOGO = ("logo.png", b"\x89PNG the same logo on every mail")


def closed_ticket(app, subject: str) -> int:
    number = customer_writes(app, subject=subject, attach=LOGO)
    agent_does(app, number, "#status closed")
    return number


def blobs_kept(app) -> int:
    with db.transaction(app.sessions) as session:
        return session.scalar(select(func.count(Blob.id)))


def replayed_from_quarantine(app, number: int) -> None:
    """Ticket `number`'s mail came in by `replay`: its quarantine row shares its bytes."""
    with db.transaction(app.sessions, write=True) as session:
        ticket = follow_up.by_number(session, number)
        raw = session.scalar(
            select(Message.raw_id).where(
                Message.ticket_id == ticket.id, Message.raw_id.is_not(None)
            )
        )
        now = app.clock()
        session.add(Quarantine(raw_id=raw, reason="test", created_at=now, replayed_at=now))


@pytest.mark.parametrize("database_kind", ["sqlite"])  # the claim's SQL runs on both below
def test_only_tickets_closed_long_enough_lose_their_bytes(make_app, clock) -> None:
    app = make_app(extra=desk_toml() + RETENTION)
    old = closed_ticket(app, "old printer")
    clock.advance(days=20)
    recent = closed_ticket(app, "recent printer")
    still_open = customer_writes(app, subject="open printer", attach=LOGO)
    before = {n: show(app, n)["events"] for n in (old, recent, still_open)}
    replayed_from_quarantine(app, old)
    clock.advance(days=11)  # old closed 31 days ago, recent 11: past 7, not past 30

    Turns(app).run_now("retention")

    old_view, recent_view, open_view = (show(app, n) for n in (old, recent, still_open))
    assert [m["raw_stored"] for m in old_view["messages"] if m["direction"] == "in"] == [False]
    assert [a["stored"] for m in old_view["messages"] for a in m["attachments"]] == [False]
    assert old_view["messages"][0]["text"]  # the text stays, only the bytes go
    assert old_view["messages"][0]["attachments"][0]["filename"] == "logo.png"
    assert [m["raw_stored"] for m in recent_view["messages"] if m["direction"] == "in"] == [True]
    assert [a["stored"] for m in recent_view["messages"] for a in m["attachments"]] == [False]
    assert all(a["stored"] for m in open_view["messages"] for a in m["attachments"])
    assert all(m["raw_stored"] for m in open_view["messages"] if m["direction"] == "in")
    assert old_view["events"][: len(before[old])] == before[old]  # the history stays
    assert events(app, old, "retention") == [
        "removed raw mail of 1 messages (kept 30 days) and 1 attachments (kept 7 days)"
        " after the close"
    ]
    only_files = "removed 1 attachments (kept 7 days) after the close"
    assert events(app, recent, "retention") == [only_files]
    assert events(app, still_open, "retention") == []
    # The logo is the open ticket's too, so its blob stays; the old raw mail's went, and
    # its replayed quarantine row with it.
    assert blobs_kept(app) == 3  # the logo, the raw mails of the recent and the open ticket
    with db.transaction(app.sessions) as session:
        assert session.scalar(select(func.count(Quarantine.id))) == 0


def test_a_second_run_finds_nothing_and_writes_no_event(make_app, clock) -> None:
    app = make_app(extra=desk_toml() + RETENTION)
    number = closed_ticket(app, "printer")
    clock.advance(days=31)
    turns = Turns(app)
    turns.run_now("retention")
    turns.run_now("retention")
    assert len(events(app, number, "retention")) == 1


@pytest.mark.parametrize("database_kind", ["sqlite"])
def test_retention_is_off_by_default_and_its_keys_are_checked(make_app) -> None:
    app = make_app(extra=desk_toml())
    assert "retention" not in Turns(app).by_id
    base = {"desk": {"name": "x"}, "database": {"url": "sqlite://"}}
    with pytest.raises(ConfigError, match=r"retention.raw_mail_days: must be a number of days"):
        config_module.parse(base | {"retention": {"raw_mail_days": 0}})
    with pytest.raises(ConfigError, match=r"retention.keep_days"):
        config_module.parse(base | {"retention": {"keep_days": 3}})
