"""A throwaway PostgreSQL cluster on loopback for the suite: initdb, pg_ctl, one database per test.

Debian's `postgresql` package gives the binaries; no system service is used.
The cluster lives in a temporary folder owned by an unprivileged user (the
server refuses to run as root), trusts loopback connections (no password
anywhere) and runs without fsync, since it is thrown away after the session.
Each test gets a fresh database copied from a template that is already at the
newest migration, which costs milliseconds instead of a migration per test.
"""

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from maildesk.store import db

TEMPLATE = "maildesk_template"
USER = "maildesk"


def find_bin(name: str) -> str | None:
    """The newest installed PostgreSQL's `name` (initdb, pg_ctl), or one on PATH."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=_version)
    return found[-1] if found else shutil.which(name)


def _version(path: str) -> int:
    return int(Path(path).parent.parent.name) if Path(path).parent.parent.name.isdigit() else 0


def _run_as() -> list[str]:
    """As root, the server's commands run as `postgres` (or `nobody`); otherwise as we are."""
    if os.geteuid() != 0:
        return []
    for user in ("postgres", "nobody"):
        try:
            pwd.getpwnam(user)
        except KeyError:
            continue
        return ["runuser", "-u", user, "--"]
    raise RuntimeError("running as root and no unprivileged user to run PostgreSQL as")


@dataclass
class PostgresCluster:
    port: int
    folder: Path

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{USER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str, template: str = "template1") -> str:
        """CREATE DATABASE `name` as a copy of `template`; returns its URL."""
        admin = sa.create_engine(self.url("postgres"), isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as connection:
                connection.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
        finally:
            admin.dispose()
        return self.url(name)

    def new_database(self, template: str = TEMPLATE) -> str:
        """A fresh database (a copy of `template`); returns its URL."""
        return self.create_database(f"t_{uuid.uuid4().hex[:16]}", template)


def start(port: int) -> PostgresCluster:
    """initdb into a new folder and start the server on `port`; returns once it accepts."""
    initdb, pg_ctl = find_bin("initdb"), find_bin("pg_ctl")
    if initdb is None or pg_ctl is None:
        raise FileNotFoundError("PostgreSQL server binaries (apt-get install postgresql)")
    folder = Path(tempfile.mkdtemp(prefix="maildesk-pg-"))
    prefix = _run_as()
    if prefix:
        shutil.chown(folder, prefix[2])
    data, sockets = folder / "data", folder
    subprocess.run(
        [
            *prefix,
            initdb,
            "-D",
            str(data),
            "-U",
            USER,
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        ],
        check=True,
        capture_output=True,
    )
    options = (
        f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off"
        " -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    )
    subprocess.run(
        [
            *prefix,
            pg_ctl,
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(folder / "log"),
            "-w",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    cluster = PostgresCluster(port, folder)
    _make_template(cluster)
    return cluster


def _make_template(cluster: PostgresCluster) -> None:
    engine = db.make_engine(cluster.create_database(TEMPLATE))
    try:
        db.upgrade(engine)
    finally:
        engine.dispose()


def restart(cluster: PostgresCluster) -> None:
    """`pg_ctl restart -m fast`: every session is cut, the server comes back with its options.

    Only for a cluster of a test's own: the suite's is shared by every test.
    """
    pg_ctl = find_bin("pg_ctl")
    data, log = str(cluster.folder / "data"), str(cluster.folder / "log")
    subprocess.run(
        [*_run_as(), pg_ctl, "-D", data, "-l", log, "-m", "fast", "-w", "restart"],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop(cluster: PostgresCluster) -> None:
    pg_ctl = find_bin("pg_ctl")
    subprocess.run(
        [*_run_as(), pg_ctl, "-D", str(cluster.folder / "data"), "-m", "immediate", "stop"],
        check=False,
        capture_output=True,
    )
    # A database per test leaves thousands of files; removing them took the session's
    # last 30 s. The folder is ours alone: it goes in the background, no one waits.
    os.spawnlp(os.P_NOWAIT, "rm", "rm", "-rf", "--", str(cluster.folder))  # noqa: S606 - fixed argv
