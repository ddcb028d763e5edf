"""Which database errors are transient: real errors of SQLite and PostgreSQL, a real lock."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError

from maildesk.errors import DatabaseUnavailable
from maildesk.store import db
from tests.conftest import free_port
from tests.support import write_lock


def error_of(url: str, statement: str) -> Exception:
    engine = db.make_engine(url, busy_timeout=0.05)
    try:
        with engine.begin() as connection:
            connection.execute(text(statement))
    except Exception as exc:  # noqa: BLE001 - the error is what the test looks at
        return exc
    finally:
        engine.dispose()
    raise AssertionError(f"{statement} did not fail")


def test_only_lock_and_connection_errors_count_as_transient(empty_database_url):
    url = empty_database_url
    engine = db.make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
        connection.execute(text("INSERT INTO t VALUES (1)"))
    engine.dispose()
    with write_lock(url, table="t"):
        locked = error_of(url, "INSERT INTO t VALUES (2)")
    duplicate = error_of(url, "INSERT INTO t VALUES (1)")
    missing = error_of(url, "SELECT * FROM nowhere")
    assert isinstance(locked, DBAPIError) and db.is_transient(locked), locked
    assert isinstance(duplicate, IntegrityError) and not db.is_transient(duplicate)
    assert isinstance(missing, DBAPIError) and not db.is_transient(missing)
    assert not db.is_transient(ValueError("a broken mail"))


@pytest.mark.one_database("SQLite has no server to be unreachable")
def test_an_unreachable_database_server_is_transient():
    refused = error_of(f"postgresql://maildesk@127.0.0.1:{free_port()}/desk", "SELECT 1")
    assert isinstance(refused, DBAPIError) and db.is_transient(refused)
    with pytest.raises(DatabaseUnavailable), db.unavailable_is_temporary():
        raise refused
