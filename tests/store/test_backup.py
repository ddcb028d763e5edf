"""`maildesk backup`: SQLite copied while another connection writes, restored as the README
says (the copy put in the database file's place), and the ticket reads back the same;
PostgreSQL gets the pg_dump command and exit 2."""

import json
import shutil
import sqlite3
import threading
from pathlib import Path

import pytest

from tests.conftest import maildesk_in_process
from tests.desk.sla.desk import agent_answers, customer_writes
from tests.support import desk_toml

NOTE = (
    "INSERT INTO events (ticket_id, kind, detail, actor, created_at) VALUES (1, 'note', ?, 'w', ?)"
)


class Writer(threading.Thread):
    """Another connection writing events, a transaction each, until told to stop."""

    def __init__(self, database: Path) -> None:
        super().__init__(daemon=True)
        self.database = database
        self.started_writing = threading.Event()
        self.done = threading.Event()
        self.written = 0

    def run(self) -> None:
        connection = sqlite3.connect(self.database, timeout=30, isolation_level=None)
        while not self.done.is_set():
            connection.execute("BEGIN IMMEDIATE")
            connection.execute(NOTE, (f"write {self.written}", "2026-11-23 02:00:00"))
            connection.execute("COMMIT")
            self.written += 1
            self.started_writing.set()
        connection.close()


def show(number: int, config: Path) -> dict:
    done = maildesk_in_process("tickets", "show", str(number), "--json", config=config)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("database_kind", ["sqlite"])
def test_a_backup_taken_while_writing_restores_the_same_ticket(make_app, tmp_path) -> None:
    app = make_app(extra=desk_toml())
    number = customer_writes(app, subject="Printer on fire")
    agent_answers(app, number, "Please unplug it.")
    config, database = tmp_path / "maildesk.toml", tmp_path / "desk.db"
    before = show(number, config)
    writer = Writer(database)
    writer.start()
    writer.started_writing.wait(60)

    taken = maildesk_in_process("backup", str(tmp_path / "copy.db"), config=config)
    writes_during = writer.written
    writer.done.set()
    writer.join(60)

    assert taken.returncode == 0, taken.stderr
    assert "backup written" in taken.stdout
    assert writes_during > 0  # it wrote before the copy began, and went on during it
    app.close()
    for path in tmp_path.glob("desk.db*"):  # the README's restore: the copy in its place
        path.unlink()
    shutil.copy(tmp_path / "copy.db", database)
    after = show(number, config)
    notes = [e for e in after["events"] if e["kind"] == "note"]
    assert 0 < len(notes) <= writes_during  # one moment's database: the writes up to it
    assert [e["detail"] for e in notes] == [f"write {n}" for n in range(len(notes))]
    assert {**after, "events": before["events"]} == before
    again = maildesk_in_process("backup", str(tmp_path / "copy.db"), config=config)
    assert again.returncode == 2 and "already exists" in again.stderr


@pytest.mark.parametrize("database_kind", ["postgresql"])
def test_postgresql_is_told_the_pg_dump_command(make_app, tmp_path) -> None:
    app = make_app()
    url = app.engine.url
    done = maildesk_in_process("backup", "desk.dump", config=tmp_path / "maildesk.toml")
    assert done.returncode == 2
    command = f"pg_dump --format=custom --file=desk.dump --host={url.host} --port={url.port}"
    assert command in done.stderr and url.database in done.stderr
    assert "password" not in done.stderr.lower()
