"""Alembic migrations on a real database: rows made at an older revision survive upgrades.

SQLite runs always (a file per test). PostgreSQL runs too when
MAILDESK_TEST_POSTGRES_URL names an empty database that the test may fill.
"""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy.orm import Session

from maildesk.store import db
from maildesk.store.tables import Base, OutboxMail, OutboxRecipient
from tests.conftest import T0, maildesk_cli

# Envelopes as 0003 stored them: one string, which 0004 must not split.
OLD_RECIPIENTS = ("ann@customer.example", '"x,victim@target.test"@attacker.test')


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.db'}"
    else:
        url = os.environ.get("MAILDESK_TEST_POSTGRES_URL") or pytest.skip(
            "set MAILDESK_TEST_POSTGRES_URL to run the migrations on PostgreSQL"
        )
    engine = db.make_engine(url)
    yield engine
    with engine.begin() as connection:
        Base.metadata.drop_all(connection)
        connection.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
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
        assert connection.scalar(sa.text("SELECT version_num FROM alembic_version")) == "0004"
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
                OutboxRecipient(position=0, address="ann@customer.example"),
                OutboxRecipient(position=1, address="bob@customer.example"),
            ],
        )
        session.add(mail)
    migrate(engine, "downgrade", "0003")
    with engine.connect() as connection:
        stored = connection.scalar(sa.text("SELECT recipients FROM outbox"))
    assert stored == "ann@customer.example,bob@customer.example"


def test_init_upgrades_a_database_made_at_the_first_revision(engine, tmp_path):
    """`maildesk init` as an operator runs it, on a database left at revision 0001."""
    migrate(engine, "upgrade", "0001")
    config = tmp_path / "maildesk.toml"
    config.write_text(
        f'[desk]\nname = "Old Desk"\nsecret_env = "MAILDESK_SECRET"\n'
        f'[database]\nurl = "{engine.url.render_as_string(hide_password=False)}"\n'
    )
    done = maildesk_cli("init", config=config)
    assert done.returncode == 0, done.stderr
    with engine.connect() as connection:
        revision = connection.scalar(sa.text("SELECT version_num FROM alembic_version"))
        tables = set(sa.inspect(connection).get_table_names())
    assert revision == db.SCHEMA_REVISION
    assert {"tickets", "messages", "outbox", "outbox_recipients", "contacts"} <= tables
    assert maildesk_cli("stats", "--json", config=config).returncode == 0
