"""`maildesk backup`: a consistent copy of a SQLite database, taken while the daemon runs.

SQLite's online backup API copies the pages in one step, under a read
transaction: in WAL mode the writers go on meanwhile, and the copy is the
database as of one moment. The copy is written beside its target and renamed
into place, so a half-written file never carries the target's name.

PostgreSQL is refused with the exact pg_dump command instead of running it:
pg_dump must be at least the server's version and the password is the
operator's to give it (PGPASSWORD, ~/.pgpass), which maildesk cannot check
for them.
"""

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import URL

from maildesk.errors import ConfigError, MaildeskError


@dataclass(frozen=True)
class Copied:
    path: Path
    size: int  # bytes


def pg_dump_command(url: URL, target: Path) -> str:
    """The pg_dump line that backs up the database at `url` into `target` (custom
    format, for pg_restore), with no password in it."""
    parts = ["pg_dump", "--format=custom", f"--file={target}"]
    for option, value in (("host", url.host), ("port", url.port), ("username", url.username)):
        if value:
            parts.append(f"--{option}={value}")
    return " ".join(parts + [url.database or ""])


def backup(engine: Engine, target: Path) -> Copied:
    """Copy the database of `engine` to the new file `target`."""
    if engine.dialect.name != "sqlite":
        command = pg_dump_command(engine.url, target)
        raise ConfigError(f"database.url: not SQLite; back PostgreSQL up with: {command}")
    if target.exists():
        raise ConfigError(f"{target}: already exists; give a new file")
    partial = target.with_name(f".{target.name}.partial")
    try:
        with engine.connect() as connection:
            source = connection.connection.driver_connection
            assert isinstance(source, sqlite3.Connection)
            with sqlite3.connect(partial) as copy:
                source.backup(copy)  # all pages in one step: one moment's database
                checked = copy.execute("PRAGMA quick_check").fetchone()
            copy.close()
        if checked != ("ok",):
            raise MaildeskError(f"{target}: the copy failed its check: {checked}")
        os.replace(partial, target)
    except (OSError, sqlite3.Error) as exc:
        raise MaildeskError(f"{target}: backup failed: {exc}") from exc
    finally:
        partial.unlink(missing_ok=True)
    return Copied(target, target.stat().st_size)
