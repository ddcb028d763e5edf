"""Engine, sessions and schema migrations (Alembic), for SQLite and PostgreSQL alike."""

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CursorResult,
    Engine,
    Executable,
    Table,
    Update,
    create_engine,
    event,
    make_url,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import QueryableAttribute, Session, sessionmaker

from maildesk.errors import ConfigError, DatabaseUnavailable, TemporaryFailure

MIGRATIONS = Path(__file__).with_name("migrations")
WRITE = "maildesk_write"  # execution option: this transaction will write
# The newest migration. Kept here so that commands check the schema without
# loading Alembic and every migration (a fifth of start-up); a test holds it
# equal to Alembic's head.
SCHEMA_REVISION = "0012"
# Held by `init` while it migrates, so workers started at once (ExecStartPre, compose)
# wait for the first and find the schema done. The two-key form: apart from the claims'.
UPGRADE_LOCK = text("SELECT pg_advisory_xact_lock(1296323403, 1)")  # "MDSK", 1


# SQLite's words for another connection holding the lock, and for a full or failing
# disk (SQLITE_FULL, SQLITE_IOERR): none of them is the mail's fault.
_SQLITE_TRANSIENT = (
    "database is locked",
    "database is busy",
    "database table is locked",
    "database or disk is full",
    "disk i/o error",
)
# PostgreSQL SQLSTATEs that say "try again": a lost connection (class 08), a
# serialization failure or deadlock (40001, 40P01), a full disk, no memory, too
# many connections, a lock not available, an administrator or crash shutdown.
_PG_TRANSIENT = (
    *("08", "40001", "40P01", "53100", "53200", "53300"),
    *("55P03", "57P01", "57P02", "57P03"),
)


def make_engine(url: str, busy_timeout: float = 30.0, password: str = "") -> Engine:
    """An engine; `busy_timeout` bounds every wait for another writer's lock (seconds);
    `password`, when given, replaces the URL's (a secret kept out of the config file).

    SQLite also gets WAL and foreign keys. A plain `postgresql://` URL means
    psycopg 3 (the `postgres` extra), not SQLAlchemy's default psycopg2.
    """
    parsed = make_url(url)
    if password:
        parsed = parsed.set(password=password)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if not parsed.drivername.startswith("sqlite"):
        lock_wait = f"-c lock_timeout={int(busy_timeout * 1000)}"
        return create_engine(parsed, pool_pre_ping=True, connect_args={"options": lock_wait})
    engine = create_engine(parsed, connect_args={"timeout": busy_timeout})

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record) -> None:
        # The driver's own transaction handling would break SAVEPOINT (intake
        # runs each mail in one): SQLAlchemy emits BEGIN itself, just below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _sqlite_begin(connection) -> None:
        write = connection.get_execution_options().get(WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session], write: bool = False) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any exception.

    `write` says it will write: SQLite then takes the write lock at the start
    (BEGIN IMMEDIATE), waiting up to busy_timeout for another writer, instead
    of failing at its first write when another worker wrote since it began.
    """
    with factory() as session, session.begin():
        if write:
            session.connection(execution_options={WRITE: True})
        yield session


def is_transient(exc: BaseException) -> bool:
    """A database error that is nobody's fault and may pass: locked, busy, disconnected,
    the disk full."""
    if isinstance(exc, PoolTimeout):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    state = getattr(exc.orig, "sqlstate", None) or ""
    if state:
        return state.startswith(_PG_TRANSIENT)
    if not isinstance(exc, OperationalError):
        return False
    if "sqlite" not in type(exc.orig).__module__:
        return True  # a server's driver: connection refused or lost
    message = str(exc.orig).lower()
    return any(words in message for words in _SQLITE_TRANSIENT)


@contextmanager
def unavailable_is_temporary() -> Iterator[None]:
    """A transient database error leaves as DatabaseUnavailable (exit 75, retried later)."""
    try:
        yield
    except (DBAPIError, PoolTimeout) as exc:
        if not is_transient(exc):
            raise
        raise DatabaseUnavailable(f"database unavailable: {getattr(exc, 'orig', exc)}") from exc


# One row's parameters, or a list of rows (executemany).
Params = Mapping[str, Any] | Sequence[Mapping[str, Any]]


def execute(session: Session, statement: Executable, params: Params | None = None) -> CursorResult:
    """Run a Core statement on the session's connection, past the ORM's bookkeeping.

    Intake's hot path writes and reads rows this way: a third of the cost of
    `session.execute` (bench/ingest.py). The session's identity map does not
    see such writes, so use it for rows the session holds no objects of.
    """
    return session.connection().execute(statement, params)


def update_rows(session: Session, statement: Update, **values: Any) -> int:
    """Run an UPDATE over rows the session holds no objects of (so nothing to keep in
    step with it); how many rows it changed."""
    options = {"synchronize_session": False}
    done = session.execute(statement.values(**values), execution_options=options)
    return done.rowcount  # type: ignore[attr-defined]


class _PerDialect:
    """One statement per database kind, run on the session's."""

    _statements: dict[str, Executable]

    def __call__(self, session: Session, row: Mapping[str, Any]) -> CursorResult:
        statement = self._statements[session.get_bind().dialect.name]
        return execute(session, statement, row)


class InsertOrSkip(_PerDialect):
    """INSERT … ON CONFLICT DO NOTHING on either database: a row another worker inserted
    first (same unique key) is no error; the statement then returns no row.
    """

    def __init__(
        self,
        table: Table,
        key: list[str],
        returning: Sequence[ColumnElement[Any] | QueryableAttribute[Any]] = (),
    ):
        self._statements = {}
        for dialect in (sqlite, postgresql):
            statement = dialect.insert(table).on_conflict_do_nothing(index_elements=key)
            self._statements[dialect.dialect.name] = (
                statement.returning(*returning) if returning else statement
            )

    def __call__(self, session: Session, rows: Params) -> CursorResult:
        """Insert one row, or several in one statement (each may be skipped)."""
        statement = self._statements[session.get_bind().dialect.name]
        return execute(session, statement, rows)


class InsertOrUpdate(_PerDialect):
    """INSERT … ON CONFLICT DO UPDATE on either database: the `update` columns take the
    new values when a row of that key exists (another worker's, too)."""

    def __init__(self, table: Table, key: list[str], update: list[str]):
        self._statements = {}
        for dialect in (sqlite, postgresql):
            statement = dialect.insert(table)
            changes = {name: statement.excluded[name] for name in update}
            self._statements[dialect.dialect.name] = statement.on_conflict_do_update(
                index_elements=key, set_=changes
            )


def count_errors(engine: Engine, note: Callable[[bool], None]) -> None:
    """Call `note(transient)` for each error the database raises through `engine`."""

    @event.listens_for(engine, "handle_error")
    def _noted(context: ExceptionContext) -> None:
        note(is_transient(context.sqlalchemy_exception or context.original_exception))


def upgrade(engine: Engine) -> None:
    """Create or upgrade the schema to the newest migration; idempotent."""
    from alembic import command
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":  # workers' `init` at once: one migrates
            connection.execute(UPGRADE_LOCK)
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def schema_revision(engine: Engine) -> str | None:
    """The migration the database is at; None for one with no schema yet."""
    try:
        with engine.connect() as connection:
            return connection.scalar(text("SELECT version_num FROM alembic_version"))
    except ProgrammingError:  # PostgreSQL: no such table yet
        return None
    except OperationalError as exc:
        if "no such table" not in str(exc.orig):
            raise TemporaryFailure(f"database unreachable: {exc.orig}") from exc
        return None


def require_current(engine: Engine) -> None:
    """Refuse to run on a missing or outdated schema; `maildesk init` fixes it."""
    current = schema_revision(engine)
    if current != SCHEMA_REVISION:
        raise ConfigError(
            f"database.url: schema is at {current or 'nothing'}, "
            f"want {SCHEMA_REVISION}; run `maildesk init`"
        )
