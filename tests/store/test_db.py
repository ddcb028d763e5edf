"""Which database errors are transient: real SQLite errors, a real lock."""

from pathlib import Path

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError

from maildesk.store import db
from tests.support import write_lock


def sqlite_error(path: Path, statement: str) -> Exception:
    engine = db.make_engine(f"sqlite:///{path}", busy_timeout=0.05)
    try:
        with engine.begin() as connection:
            connection.execute(text(statement))
    except Exception as exc:  # noqa: BLE001 - the error is what the test looks at
        return exc
    finally:
        engine.dispose()
    raise AssertionError(f"{statement} did not fail")


def test_only_lock_and_connection_errors_count_as_transient(tmp_path):
    engine = db.make_engine(f"sqlite:///{tmp_path / 'x.db'}", busy_timeout=0.05)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
        connection.execute(text("INSERT INTO t VALUES (1)"))
    engine.dispose()
    with write_lock(tmp_path / "x.db"):
        locked = sqlite_error(tmp_path / "x.db", "INSERT INTO t VALUES (2)")
    duplicate = sqlite_error(tmp_path / "x.db", "INSERT INTO t VALUES (1)")
    missing = sqlite_error(tmp_path / "x.db", "SELECT * FROM nowhere")
    assert isinstance(locked, OperationalError) and db.is_transient(locked)
    assert isinstance(duplicate, IntegrityError) and not db.is_transient(duplicate)
    assert isinstance(missing, OperationalError) and not db.is_transient(missing)
    assert not db.is_transient(ValueError("a broken mail"))
