"""`contacts forget`: one person erased on SQLite and PostgreSQL; their tickets stay as
counts, another customer's data stays as it was, and an event says who asked.

Ann writes twice from `ann@Shop.Example` (the operator types the domain in
lower case), with a file of her own and the logo Bob's mail carries too; an
agent answers her. After `forget`, no column of any table holds her address or
her name, her file's bytes are gone, the logo's stay for Bob.
"""

from datetime import date

import pytest
from sqlalchemy import String, Text, func, or_, select

from maildesk.desk.report import figures
from maildesk.store import db
from maildesk.store.tables import Base, Blob, OutboxMail
from tests.conftest import maildesk_in_process
from tests.desk.sla.desk import agent_answers, customer_writes
from tests.support import desk_toml, show

ANN = "Ann Lee <ann@Shop.Example>"
LOGO = ("logo.png", b"\x89PNG the logo both customers' signatures carry")
HERS = ("passport.pdf", b"%PDF Ann's passport scan")


def report(app) -> dict:
    with db.transaction(app.sessions) as session:
        return figures(session, app.desk(), date(2026, 11, 1), date(2026, 12, 1))


def tables_naming(app, *needles: str) -> list[str]:
    """The tables with a text column that holds a needle; "bytes" when blobs or the
    outbox's mails do."""
    found = []
    with db.transaction(app.sessions) as session:
        for table in Base.metadata.sorted_tables:
            texts = [c for c in table.columns if isinstance(c.type, String | Text)]
            like = [func.lower(c).contains(n.lower()) for c in texts for n in needles]
            if like and session.scalar(select(func.count()).select_from(table).where(or_(*like))):
                found.append(table.name)
        stored = [*session.scalars(select(Blob.data)), *session.scalars(select(OutboxMail.raw))]
    wanted = [n.lower().encode() for n in needles]
    return found + ["bytes" for data in stored if any(n in data.lower() for n in wanted)]


def desk_with_ann_and_bob(make_app):
    app = make_app(extra=desk_toml())
    first = customer_writes(app, subject="Printer on fire", sender=ANN, attach=HERS)
    agent_answers(app, first, "Please unplug it, Ann.")
    second = customer_writes(app, subject="Again", sender=ANN, attach=LOGO)
    bob = customer_writes(app, subject="Invoice", sender="Bob <bob@other.example>", attach=LOGO)
    return app, (first, second), bob


def test_forget_erases_her_and_keeps_the_counts_and_bob(make_app, tmp_path) -> None:
    app, hers, bob = desk_with_ann_and_bob(make_app)
    assert tables_naming(app, "ann@shop.example", "Ann Lee")  # she is stored before
    figures_before, bob_before = report(app), show(app, bob)

    done = maildesk_in_process(
        "contacts",
        "forget",
        "ann@SHOP.example",
        "--yes",
        "--by",
        "dpo@desk.example",
        config=tmp_path / "maildesk.toml",
    )

    assert done.returncode == 0, done.stderr
    assert "forgot ann@SHOP.example at the request of dpo@desk.example: 2 tickets" in done.stdout
    assert tables_naming(app, "ann@shop.example", "Ann Lee", "passport") == []
    assert report(app) == figures_before
    assert show(app, bob) == bob_before
    for number in hers:
        view = show(app, number)
        assert view["customer"] == "" and view["subject"] == "(forgotten)"
        assert all(m["text"] == "" and not m["raw_stored"] for m in view["messages"])
        assert all(not a["stored"] for m in view["messages"] for a in m["attachments"])
        forgotten = [e for e in view["events"] if e["kind"] == "forgotten"]
        assert [(e["actor"], e["detail"]) for e in forgotten] == [
            (
                "dpo@desk.example",
                "a person's data was removed from this ticket at the request of dpo@desk.example",
            )
        ]
    assert [a["stored"] for m in show(app, bob)["messages"] for a in m["attachments"]] == [True]
    with db.transaction(app.sessions) as session:
        assert session.scalar(select(func.count()).where(Blob.data == HERS[1])) == 0


@pytest.mark.parametrize("database_kind", ["sqlite"])  # the command's checks, before any SQL
def test_forget_asks_for_yes_without_a_terminal_and_names_unknown_addresses(
    make_app, tmp_path
) -> None:
    app = make_app()
    hers = customer_writes(app, sender=ANN)
    config = tmp_path / "maildesk.toml"
    before = show(app, hers)

    refused = maildesk_in_process("contacts", "forget", "ann@shop.example", config=config)
    unknown = maildesk_in_process("contacts", "forget", "zoe@shop.example", "--yes", config=config)
    other_case = maildesk_in_process(
        "contacts", "forget", "ANN@shop.example", "--yes", config=config
    )

    assert refused.returncode == 2 and "give --yes" in refused.stderr
    assert show(app, hers) == before
    assert unknown.returncode == 1
    assert "nothing stored of zoe@shop.example" in unknown.stderr
    assert other_case.returncode == 1
    assert "(stored: ann@shop.example; the local part's case counts)" in other_case.stderr
