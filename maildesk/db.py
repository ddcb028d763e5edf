"""Engine, sessions and schema migrations (Alembic), for SQLite and PostgreSQL alike."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import CursorResult, Engine, Executable, create_engine, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from maildesk.errors import ConfigError, TemporaryFailure

MIGRATIONS = Path(__file__).with_name("migrations")


def make_engine(url: str) -> Engine:
    """An engine; SQLite gets WAL, foreign keys and a busy timeout."""
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    engine = create_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any exception."""
    with factory() as session, session.begin():
        yield session


def execute(session: Session, statement: Executable, params: dict | None = None) -> CursorResult:
    """Run a Core statement on the session's connection, past the ORM's bookkeeping.

    Intake's hot path writes and reads rows this way: a third of the cost of
    `session.execute` (bench/ingest.py). The session's identity map does not
    see such writes, so use it for rows the session holds no objects of.
    """
    return session.connection().execute(statement, params)


def upgrade(engine: Engine) -> None:
    """Create or upgrade the schema to the newest migration; idempotent."""
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def _script() -> ScriptDirectory:
    return ScriptDirectory(str(MIGRATIONS))


def require_current(engine: Engine) -> None:
    """Refuse to run on a missing or outdated schema; `maildesk init` fixes it."""
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
    except OperationalError as exc:
        raise TemporaryFailure(f"database unreachable: {exc.orig}") from exc
    head = _script().get_current_head()
    if current != head:
        raise ConfigError(
            f"database.url: schema is at {current or 'nothing'}, want {head}; run `maildesk init`"
        )
