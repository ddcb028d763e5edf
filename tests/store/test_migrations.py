"""Alembic migrations on a real database: rows made at an older revision survive upgrades.

Each test runs on a SQLite file and on an empty PostgreSQL database of the
suite's own cluster.
"""

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy.orm import Session

from maildesk.config import LoopsConfig
from maildesk.desk import loops
from maildesk.store import db, numbers
from maildesk.store.intake_tables import MailboxPoll
from maildesk.store.tables import OutboxMail, OutboxRecipient
from tests.conftest import T0, maildesk_in_process
from tests.support import wait_until, waiting_on_a_lock

# Envelopes as 0003 stored them: one string, which 0004 must not split.
OLD_RECIPIENTS = ("ann@customer.example", '"x,victim@target.test"@attacker.test')


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.Engine]:
    """An empty database, at no revision yet."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.db'}"
    else:
        url = request.getfixturevalue("pg_cluster").new_database(template="template0")
    engine = db.make_engine(url)
    yield engine
    engine.dispose()


def migrate(engine: sa.Engine, step: str, revision: str) -> None:
    """`alembic upgrade|downgrade revision` on maildesk's migrations."""
    config = AlembicConfig()
    config.set_main_option("script_location", str(db.MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        getattr(command, step)(config, revision)


def old_outbox_rows(engine: sa.Engine) -> None:
    """Outbox rows with a recipients string, as revision 0003 wrote them."""
    outbox = sa.Table("outbox", sa.MetaData(), autoload_with=engine)
    rows = [
        {
            "kind": "ack",
            "message_id": f"<old.{n}@desk.example>",
            "sender": "support@desk.example",
            "recipients": recipients,
            "raw": b"Subject: old\r\n\r\nold\r\n",
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": T0.replace(tzinfo=None),
            "created_at": T0.replace(tzinfo=None),
        }
        for n, recipients in enumerate(OLD_RECIPIENTS)
    ]
    with engine.begin() as connection:
        connection.execute(outbox.insert(), rows)


def envelopes(engine: sa.Engine) -> list[list[str]]:
    with Session(engine) as session:
        mails = session.scalars(sa.select(OutboxMail).order_by(OutboxMail.id)).all()
        return [[r.address for r in mail.recipients] for mail in mails]


def test_0004_makes_each_old_recipients_string_a_one_element_list(engine):
    migrate(engine, "upgrade", "0003")
    old_outbox_rows(engine)
    migrate(engine, "upgrade", "head")
    assert envelopes(engine) == [[address] for address in OLD_RECIPIENTS]
    with engine.connect() as connection:
        revision = connection.scalar(sa.text("SELECT version_num FROM alembic_version"))
        assert revision == db.SCHEMA_REVISION
        columns = {c["name"] for c in sa.inspect(connection).get_columns("outbox")}
        assert "recipients" not in columns


def test_0004_downgrades_to_one_string_per_row(engine):
    migrate(engine, "upgrade", "head")
    with Session(engine) as session, session.begin():
        mail = OutboxMail(
            kind="agent_reply",
            message_id="<new@desk.example>",
            sender="support@desk.example",
            raw=b"",
            status="sent",
            attempts=1,
            next_attempt_at=T0,
            created_at=T0,
            recipients=[
                OutboxRecipient(**row)
                for row in loops.envelope(
                    LoopsConfig(),
                    "agent_reply",
                    ["ann@customer.example", "bob@customer.example"],
                    T0,
                )
            ],
        )
        session.add(mail)
    migrate(engine, "downgrade", "0003")
    with engine.connect() as connection:
        stored = connection.scalar(sa.text("SELECT recipients FROM outbox"))
    assert stored == "ann@customer.example,bob@customer.example"


def test_0008_gives_old_recipients_their_mailbox_domain_and_budget(engine):
    """Rows of 0007 get what the budget counts: the mailbox and domain of each address,
    and `budget_at` for automatic mail to customers; the budget then counts them."""
    migrate(engine, "upgrade", "0003")
    old_outbox_rows(engine)  # two acks, one to an address no parser reads as one
    migrate(engine, "upgrade", "0007")
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO outbox (kind, message_id, sender, raw, status, attempts,"
                " next_attempt_at, created_at) VALUES ('agent_reply', '<a@d>', 's@d', :raw,"
                " 'sent', 1, :at, :at)"
            ),
            {"raw": b"", "at": T0.replace(tzinfo=None)},
        )
        connection.execute(
            sa.text(
                "INSERT INTO outbox_recipients (outbox_id, position, address)"
                " SELECT id, n, a FROM outbox, (SELECT 0 AS n, 'Ann+X@Customer.Example' AS a"
                " UNION ALL SELECT 1, 'bob@bücher.example') AS r WHERE kind = 'agent_reply'"
            )
        )
    migrate(engine, "upgrade", "head")
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT address, mailbox, domain, budget_at IS NOT NULL FROM outbox_recipients"
                " ORDER BY outbox_id, position"
            )
        ).all()
    assert [(*r[:3], bool(r[3])) for r in rows] == [
        ("ann@customer.example", "ann@customer.example", "customer.example", True),
        (OLD_RECIPIENTS[1], '"x,victim@target.test"@attacker.test', "attacker.test", True),
        ("Ann+X@Customer.Example", "ann@customer.example", "customer.example", False),
        ("bob@bücher.example", "bob@xn--bcher-kva.example", "xn--bcher-kva.example", False),
    ]
    with Session(engine) as session:
        found = loops.count_recent(session, LoopsConfig(), "ANN@customer.example", 0, T0)
    assert (found.to_address, found.to_domain) == (1, 1)


def test_0008_downgrades_to_the_address_index(engine):
    migrate(engine, "upgrade", "head")
    migrate(engine, "downgrade", "0007")
    with engine.connect() as connection:
        inspector = sa.inspect(connection)
        columns = {c["name"] for c in inspector.get_columns("outbox_recipients")}
        indexes = {i["name"] for i in inspector.get_indexes("outbox_recipients")}
        contact_columns = {c["name"] for c in inspector.get_columns("contacts")}
    assert columns == {"outbox_id", "position", "address"}
    assert indexes == {"ix_outbox_recipients_address"}
    assert "unconfirmed_bounce" not in contact_columns


def test_init_upgrades_a_database_made_at_the_first_revision(engine, tmp_path):
    """`maildesk init` as an operator runs it, on a database left at revision 0001."""
    migrate(engine, "upgrade", "0001")
    config = tmp_path / "maildesk.toml"
    config.write_text(
        f'[desk]\nname = "Old Desk"\nsecret_env = "MAILDESK_SECRET"\n'
        f'[database]\nurl = "{engine.url.render_as_string(hide_password=False)}"\n'
    )
    done = maildesk_in_process("init", config=config)
    assert done.returncode == 0, done.stderr
    with engine.connect() as connection:
        revision = connection.scalar(sa.text("SELECT version_num FROM alembic_version"))
        tables = set(sa.inspect(connection).get_table_names())
    assert revision == db.SCHEMA_REVISION
    assert {"tickets", "messages", "outbox", "outbox_recipients", "contacts"} <= tables
    assert maildesk_in_process("stats", "--json", config=config).returncode == 0


def old_ticket_with_a_raced_message_id(engine: sa.Engine) -> None:
    """Ticket 41 with one Message-ID stored twice, as two racing workers could before 0005."""
    meta = sa.MetaData()
    tickets, messages = (sa.Table(n, meta, autoload_with=engine) for n in ("tickets", "messages"))
    when = T0.replace(tzinfo=None)
    with engine.begin() as connection:
        ticket = connection.execute(
            tickets.insert().values(
                number=41,
                subject="s",
                status="open",
                priority="P2",
                customer="a@x.example",
                locale="en",
                automatic=False,
                created_at=when,
                updated_at=when,
            )
        ).inserted_primary_key[0]
        connection.execute(sa.text("UPDATE counters SET value = 41 WHERE name = 'ticket'"))
        text = dict(from_addr="a@x.example", from_name="", to_addrs="", cc_addrs="", text="")
        for _ in range(2):
            connection.execute(
                messages.insert().values(
                    ticket_id=ticket,
                    direction="in",
                    mail_class="human",
                    message_id="<raced@x.example>",
                    subject="s",
                    full_text="",
                    source="imap",
                    created_at=when,
                    **text,
                )
            )


def test_0005_keeps_the_first_copy_of_a_raced_message_id_and_refuses_a_third(engine):
    migrate(engine, "upgrade", "0004")
    old_ticket_with_a_raced_message_id(engine)
    migrate(engine, "upgrade", "head")
    with engine.connect() as connection:
        ids = connection.execute(sa.text("SELECT message_id FROM messages ORDER BY id")).all()
        assert [row[0] for row in ids] == ["<raced@x.example>", None]
        with pytest.raises(sa.exc.IntegrityError):
            connection.execute(
                sa.text(
                    "INSERT INTO messages (ticket_id, direction, mail_class, message_id,"
                    " from_addr, from_name, to_addrs, cc_addrs, subject, text, full_text,"
                    " source, created_at) SELECT ticket_id, direction, mail_class, message_id,"
                    " from_addr, from_name, to_addrs, cc_addrs, subject, text, full_text,"
                    " source, created_at FROM messages WHERE message_id IS NOT NULL"
                )
            )


def test_0005_holds_unsigned_32_bit_uids_and_numbers_tickets_after_the_old_ones(engine):
    migrate(engine, "upgrade", "0004")
    old_ticket_with_a_raced_message_id(engine)
    migrate(engine, "upgrade", "head")
    top = 2**32 - 1  # the largest UIDVALIDITY and UID RFC 3501 allows
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO receipts (mailbox, uidvalidity, uid, outcome)"
                " VALUES ('m', :top, :top, 'stored')"
            ),
            {"top": top},
        )
        stored = connection.execute(sa.text("SELECT uidvalidity, uid FROM receipts")).one()
    assert tuple(stored) == (top, top)
    with Session(engine) as session, session.begin():
        assert numbers.next_ticket_number(session) == 42
        assert numbers.next_ticket_number(session) == 43


def test_the_migrations_build_the_schema_the_models_describe(engine):
    """No drift: a table, column or index the models have and no migration made (or the
    reverse) would fail only on a database created by `maildesk init`."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from maildesk.store import deadline_tables, intake_tables, kb_tables  # noqa: F401 - their tables join the metadata
    from maildesk.store.tables import Base

    db.upgrade(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        differences = compare_metadata(context, Base.metadata)
    assert [d for d in differences if "alembic_version" not in str(d)] == []


def test_0012_adds_the_mailbox_polls_and_keeps_the_cursors(engine):
    """Upgraded from 0011, the cursors stay and a poll time goes in; downgraded, it goes."""
    migrate(engine, "upgrade", "0011")
    with engine.begin() as connection:
        connection.execute(
            sa.text("INSERT INTO cursors (mailbox, uidvalidity, last_uid) VALUES ('m', 7, 42)")
        )
    migrate(engine, "upgrade", "head")
    with Session(engine) as session, session.begin():
        assert session.execute(sa.text("SELECT * FROM cursors")).all() == [("m", 7, 42)]
        session.add(MailboxPoll(mailbox="default", polled_at=T0))
    with Session(engine) as session:
        assert session.get_one(MailboxPoll, "default").polled_at == T0
    migrate(engine, "downgrade", "0011")
    with engine.connect() as connection:
        inspector = sa.inspect(connection)
        assert "mailbox_polls" not in inspector.get_table_names()
        assert "ix_sla_clocks_breached" not in {
            i["name"] for i in inspector.get_indexes("sla_clocks")
        }
        assert connection.execute(sa.text("SELECT * FROM cursors")).all() == [("m", 7, 42)]


def test_on_postgresql_an_init_waits_for_the_one_migrating(pg_cluster):
    """Workers started at once each run `maildesk init` (ExecStartPre, compose): the
    second waits for the first's lock, then finds the schema done instead of failing on
    tables half made."""
    url = pg_cluster.new_database(template="template0")
    engine = db.make_engine(url)
    errors: list[BaseException] = []

    def second_init() -> None:
        try:
            db.upgrade(engine)
        except BaseException as exc:  # noqa: BLE001 - the test reports it
            errors.append(exc)

    with engine.connect() as first:
        first.begin()
        first.execute(db.UPGRADE_LOCK)
        second = threading.Thread(target=second_init)
        second.start()
        wait_until(lambda: waiting_on_a_lock(url))
        config = AlembicConfig()
        config.set_main_option("script_location", str(db.MIGRATIONS))
        config.attributes["connection"] = first
        command.upgrade(config, "head")
        first.commit()
    second.join(60)
    assert errors == [] and db.schema_revision(engine) == db.SCHEMA_REVISION
    engine.dispose()
