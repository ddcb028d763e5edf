"""The command line as an operator uses it: exit codes, messages, JSON contract.

Most tests run it in this process (maildesk_in_process, click's runner); the ones
whose point is the process run the installed command (maildesk_cli): `run` and
`poll` refusing a bad config before they start, the secret missing from the
environment, the refusal of an uninitialised database, exit 75 for an unreachable
server, one `poll --once` end to end, and what `--help` imports.
"""

import json
import mailbox as stdlib_mailbox
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from maildesk.cli import cli
from maildesk.cli.main import COMMANDS
from maildesk.store import db
from tests.conftest import (
    SmtpSink,
    config_text,
    free_port,
    maildesk_cli,
    maildesk_in_process,
    make_mail,
)

STATS_KEYS = {
    "tickets",
    "messages",
    "quarantined",
    "by_status",
    "by_priority",
    "by_class",
    "outbox",
    "outbox_by_kind",
}


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "maildesk.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def offline_config(tmp_path: Path, empty_database_url: str) -> Path:
    """A config with SMTP on a closed port and no IMAP: enough for import and views."""
    return write_config(tmp_path, config_text(empty_database_url, None, None, free_port()))


@pytest.mark.parametrize(
    ("mutate", "key", "reason"),
    [
        (
            lambda t: t.replace('url = "sqlite', 'urls = "sqlite'),
            "database.url",
            "required key is missing",
        ),
        (lambda t: t.replace("port = ", 'port = "x" #', 1), "imap.port", "must be int"),
        (
            lambda t: t.replace('priority = "P0"', 'priority = "P5"'),
            "rules[0].priority",
            '"P5" is not one of P0..P3'.replace('"', "'"),
        ),
        (lambda t: t.replace("poll_interval", "pol_interval"), "imap.pol_interval", "unknown key"),
        (
            lambda t: t.replace('subject_regex = "(?i)', 'subject_regex = "(?i)(['),
            "rules[0].subject_regex",
            "invalid regular expression",
        ),
        (lambda t: t + "\n[desk\n", "maildesk.toml", "not valid TOML"),
    ],
)
@pytest.mark.one_database("the config is refused before any database is opened")
def test_bad_config_names_key_exits_2_and_starts_nothing(tmp_path, mutate, key, reason):
    text = mutate(config_text(tmp_path / "desk.db", 1143, "u@example.test", 2525))
    config = write_config(tmp_path, text)
    result = maildesk_in_process("init", config=config)
    assert result.returncode == 2, result.stderr
    assert key in result.stderr and reason in result.stderr, result.stderr
    assert not (tmp_path / "desk.db").exists(), "nothing started, no database created"


@pytest.mark.one_database("the config is refused before any database is opened")
def test_daemon_and_poll_refuse_a_bad_config_before_starting(tmp_path):
    text = config_text(tmp_path / "desk.db", 1143, "u@example.test", 2525)
    config = write_config(tmp_path, text.replace('priority = "P0"', 'priority = "P5"'))
    for command in (["run"], ["poll", "--once"]):
        result = maildesk_cli(*command, config=config, timeout=30)
        assert result.returncode == 2
        assert "rules[0].priority: 'P5' is not one of P0..P3" in result.stderr
    assert not (tmp_path / "desk.db").exists()


@pytest.mark.one_database("the list of commands opens no database")
def test_help_lists_every_command_by_its_own_first_sentence():
    """`maildesk --help` shows cli/main.py's summaries: each is its command's own."""
    context = click.Context(cli)
    for name, entry in COMMANDS.items():
        command = cli.get_command(context, name)
        assert command is not None and command.name == name
        assert command.get_short_help_str(limit=10**6) == entry.summary, name
    listing = maildesk_in_process("--help", config=Path("unused.toml")).stdout
    listed = [line.split()[0] for line in listing.split("Commands:")[1].splitlines()[1:]]
    assert listed == cli.list_commands(context) and set(COMMANDS) <= set(listed)


# A new interpreter runs `maildesk --help` and prints the modules it imported.
HELP_PROBE = """
import sys
from maildesk.cli import main
sys.argv = ["maildesk", "--help"]
try:
    main()
except SystemExit:
    print(" ".join(sorted(sys.modules)), file=sys.stderr)
"""


@pytest.mark.one_database("start-up of the command line; no database")
def test_help_starts_without_importing_a_command_or_its_libraries():
    """The commands' modules load when one runs: `--help` costs click, not the desk."""
    probe = subprocess.run(
        [sys.executable, "-c", HELP_PROBE], capture_output=True, text=True, timeout=60
    )
    assert "stats" in probe.stdout, probe.stdout
    modules = set(probe.stderr.split())
    assert "maildesk.cli.main" in modules
    loaded = {m for m in modules if m.startswith("maildesk.cli.") and m != "maildesk.cli.main"}
    assert loaded == set(), loaded
    assert not modules & {"maildesk.app", "sqlalchemy", "jinja2", "rich", "aiohttp", "pygal"}


def test_missing_or_weak_secret_is_named(offline_config):
    result = maildesk_cli("init", config=offline_config, env={"MAILDESK_SECRET": "short"})
    assert result.returncode == 2
    assert (
        "desk.secret_env: the secret in environment variable MAILDESK_SECRET is too short"
        in result.stderr
    )
    env = {k: v for k, v in os.environ.items() if k != "MAILDESK_SECRET"}
    result = subprocess.run(
        [sys.executable, "-m", "maildesk", "--config", str(offline_config), "init"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 2
    assert (
        "desk.secret_env: MAILDESK_SECRET not found: environment variable MAILDESK_SECRET"
        in result.stderr
    )


def test_commands_refuse_an_uninitialised_database(offline_config):
    result = maildesk_cli("stats", "--json", config=offline_config)
    assert result.returncode == 2 and "maildesk init" in result.stderr


def test_schema_revision_is_the_newest_migration():
    from alembic.script import ScriptDirectory

    assert ScriptDirectory(str(db.MIGRATIONS)).get_current_head() == db.SCHEMA_REVISION


def test_init_is_idempotent_and_stats_has_the_contract_keys(offline_config):
    assert maildesk_in_process("init", config=offline_config).returncode == 0
    assert maildesk_in_process("init", config=offline_config).returncode == 0
    result = maildesk_in_process("stats", "--json", config=offline_config)
    data = json.loads(result.stdout)
    assert set(data) >= STATS_KEYS
    assert data["by_status"] == {"open": 0, "pending": 0, "resolved": 0, "closed": 0}
    assert set(data["outbox_by_kind"]) >= {
        "ack",
        "status_update",
        "agent_notification",
        "agent_reply",
        "escalation",
        "survey",
    }


def test_import_eml_mbox_and_maildir_queue_acks_without_sending(offline_config, tmp_path):
    maildesk_in_process("init", config=offline_config)
    eml = tmp_path / "one.eml"
    eml.write_bytes(make_mail(subject="from an eml file").as_bytes())
    box = stdlib_mailbox.mbox(tmp_path / "archive.mbox")
    box.add(make_mail(subject="mbox one"))
    box.add(make_mail(subject="Outage in mbox two", sender="b@vip.example"))
    box.close()
    maildir = stdlib_mailbox.Maildir(tmp_path / "Maildir", create=True)
    maildir.add(make_mail(subject="from a Maildir"))

    result = maildesk_in_process(
        "import",
        str(eml),
        str(tmp_path / "archive.mbox"),
        str(tmp_path / "Maildir"),
        config=offline_config,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(maildesk_in_process("stats", "--json", config=offline_config).stdout)
    assert data["tickets"] == 4 and data["outbox"]["pending"] == 4
    assert data["by_priority"]["P0"] == 1
    listing = json.loads(
        maildesk_in_process("tickets", "list", "--json", config=offline_config).stdout
    )
    assert [t["subject"] for t in listing] == [
        "from an eml file",
        "mbox one",
        "Outage in mbox two",
        "from a Maildir",
    ]

    again = maildesk_in_process("import", str(eml), config=offline_config)
    assert "duplicate" in again.stdout
    assert (
        json.loads(maildesk_in_process("stats", "--json", config=offline_config).stdout)["tickets"]
        == 4
    )


def test_import_batch_with_a_bad_mail_quarantines_it_alone(offline_config, tmp_path):
    """One failing mail rolls its batch back; the batch runs again mail by mail."""
    maildesk_in_process("init", config=offline_config)
    first = make_mail(subject="first")
    follow_up = make_mail(subject="more details", In_Reply_To=first["Message-ID"])
    box = stdlib_mailbox.mbox(tmp_path / "mixed.mbox")
    for mail in (first, make_mail(subject="second"), follow_up):
        box.add(mail)
    box.add(b"\x01\x02 not a mail\n")
    box.add(make_mail(subject="third"))
    box.close()

    result = maildesk_in_process("import", str(tmp_path / "mixed.mbox"), config=offline_config)
    assert result.returncode == 0, result.stderr
    assert "4 stored" in result.stdout and "1 quarantined" in result.stdout
    data = json.loads(maildesk_in_process("stats", "--json", config=offline_config).stdout)
    assert data["tickets"] == 3 and data["quarantined"] == 1 and data["outbox"]["pending"] == 3
    listing = json.loads(
        maildesk_in_process("tickets", "list", "--json", config=offline_config).stdout
    )
    assert [(t["number"], t["subject"]) for t in listing] == [
        (1, "first"),
        (2, "second"),
        (3, "third"),
    ]
    shown = maildesk_in_process("tickets", "show", "1", "--json", config=offline_config)
    shown = json.loads(shown.stdout)
    assert [m["subject"] for m in shown["messages"] if m["direction"] == "in"] == [
        "first",
        "more details",
    ]


def test_import_send_delivers_acks(tmp_path, smtp_sink: SmtpSink, empty_database_url):
    config = write_config(tmp_path, config_text(empty_database_url, None, None, smtp_sink.port))
    maildesk_in_process("init", config=config)
    eml = tmp_path / "a.eml"
    eml.write_bytes(make_mail(subject="send me").as_bytes())
    result = maildesk_in_process("import", "--send", str(eml), config=config)
    assert result.returncode == 0, result.stderr
    assert [m["Subject"] for m in smtp_sink.messages] == ["[Ticket#1] send me"]


def test_tickets_show_json_contract(offline_config, tmp_path):
    maildesk_in_process("init", config=offline_config)
    eml = tmp_path / "a.eml"
    eml.write_bytes(make_mail(subject="Show me", body="Hello\n\n> old quoted text").as_bytes())
    maildesk_in_process("import", str(eml), config=offline_config)
    data = json.loads(
        maildesk_in_process("tickets", "show", "1", "--json", config=offline_config).stdout
    )
    for key in (
        "number",
        "subject",
        "status",
        "priority",
        "category",
        "team",
        "assignee",
        "customer",
        "created_at",
        "due",
        "messages",
    ):
        assert key in data
    first = data["messages"][0]
    assert first["direction"] == "in" and first["class"] == "human"
    assert first["text"] == "Hello" and first["attachments"] == []
    missing = maildesk_in_process("tickets", "show", "99", config=offline_config)
    assert missing.returncode == 1 and "ticket 99 not found" in missing.stderr


def test_replay_after_raising_a_limit(tmp_path, offline_config):
    """A broken admin template no longer quarantines (the shipped one is sent): a limit does."""
    text = offline_config.read_text()
    offline_config.write_text(text + "\n[intake]\nmax_message_bytes = 200\n")
    maildesk_in_process("init", config=offline_config)
    eml = tmp_path / "a.eml"
    eml.write_bytes(make_mail(subject="needs more room").as_bytes())
    maildesk_in_process("import", str(eml), config=offline_config)
    data = json.loads(maildesk_in_process("stats", "--json", config=offline_config).stdout)
    assert data["quarantined"] == 1 and data["tickets"] == 0

    offline_config.write_text(text)
    result = maildesk_in_process("replay", config=offline_config)
    assert "stored" in result.stdout, result.stdout + result.stderr
    data = json.loads(maildesk_in_process("stats", "--json", config=offline_config).stdout)
    assert data["quarantined"] == 0 and data["tickets"] == 1
    assert "nothing to replay" in maildesk_in_process("replay", config=offline_config).stdout


def test_unreachable_imap_exits_75(tmp_path, empty_database_url):
    config = write_config(
        tmp_path, config_text(empty_database_url, free_port(), "u@example.test", None)
    )
    maildesk_in_process("init", config=config)
    result = maildesk_cli("poll", "--once", config=config)
    assert result.returncode == 75 and "unreachable" in result.stderr


def test_poll_once_end_to_end(mailbox, smtp_sink, tmp_path, empty_database_url):
    config = write_config(
        tmp_path,
        config_text(empty_database_url, mailbox.server.port, mailbox.user, smtp_sink.port),
    )
    maildesk_in_process("init", config=config)
    mailbox.deliver(make_mail(subject="Site down!"))
    result = maildesk_cli("poll", "--once", config=config)
    assert result.returncode == 0, result.stderr
    assert [m["Subject"] for m in smtp_sink.messages] == ["[Ticket#1] Site down!"]
    listing = json.loads(maildesk_in_process("tickets", "list", "--json", config=config).stdout)
    assert listing[0]["priority"] == "P0" and listing[0]["status"] == "open"


def test_tickets_update_runs_the_agents_commands(offline_config, tmp_path):
    text = offline_config.read_text() + (
        '\n[[agents]]\nemail = "lin@desk.example"\nname = "Lin"\nteam = "support"\n'
        '\n[[teams]]\nname = "support"\nassign = "none"\n'
    )
    offline_config.write_text(text)
    maildesk_in_process("init", config=offline_config)
    eml = tmp_path / "a.eml"
    eml.write_bytes(make_mail(subject="needs an update").as_bytes())
    maildesk_in_process("import", str(eml), config=offline_config)

    done = maildesk_in_process(
        "tickets",
        "update",
        "1",
        "--status",
        "已解决",
        "--priority",
        "P1",
        "--assign",
        "Lin",
        "--note",
        "called the customer",
        config=offline_config,
    )
    wrong = maildesk_in_process(
        "tickets", "update", "1", "--assign", "nobody", config=offline_config
    )

    assert done.returncode == 0, done.stderr
    assert "ticket 1: resolved, P1, lin@desk.example" in done.stdout
    assert wrong.returncode == 1 and "no agent called 'nobody'" in wrong.stderr
    shown = json.loads(
        maildesk_in_process("tickets", "show", "1", "--json", config=offline_config).stdout
    )
    kinds = [(e["kind"], e["actor"]) for e in shown["events"]]
    assert ("note", "cli") in kinds and ("status", "cli") in kinds
    stats = json.loads(maildesk_in_process("stats", "--json", config=offline_config).stdout)
    assert stats["outbox_by_kind"]["status_update"] == 1, "the customer hears it is resolved"


def test_sla_upcoming_is_a_dry_run_with_the_contract_keys(offline_config, tmp_path):
    maildesk_in_process("init", config=offline_config)
    eml = tmp_path / "outage.eml"
    eml.write_bytes(make_mail(subject="Outage: checkout down").as_bytes())
    assert maildesk_in_process("import", str(eml), config=offline_config).returncode == 0
    before = json.loads(maildesk_in_process("stats", "--json", config=offline_config).stdout)

    result = maildesk_in_process(
        "sla", "upcoming", "--hours", "24", "--json", config=offline_config
    )
    assert result.returncode == 0, result.stderr
    entries = json.loads(result.stdout)
    assert {"number", "priority", "clock", "level", "at", "recipients"} <= set(entries[0])
    first = [(e["level"], e["priority"]) for e in entries if e["clock"] == "first_response"]
    assert first == [("warn", "P0"), ("L1", "P0"), ("L2", "P0"), ("L3", "P0")]
    after = json.loads(maildesk_in_process("stats", "--json", config=offline_config).stdout)
    assert after == before, "a dry run queues nothing"
    text = maildesk_in_process("sla", "upcoming", config=offline_config).stdout
    assert any(
        line.split()[:4] == ["#1", "P0", "first_response", "warn"] for line in text.splitlines()
    )

    detail = json.loads(
        maildesk_in_process("tickets", "show", "1", "--json", config=offline_config).stdout
    )
    assert detail["due"]["first_response"] and detail["due"]["resolution"]
    assert (detail["pauses"], detail["levels_fired"]) == ([], [])


@pytest.mark.one_database("text layout of the command line; the database is incidental")
def test_text_tables_align_chinese_by_display_width(offline_config, tmp_path):
    """`tickets list` and `stats` print tables for people: a column starts at the same
    terminal cell on every line, however many two-cell characters come before it."""
    from rich.cells import cell_len

    maildesk_in_process("init", config=offline_config)
    box = stdlib_mailbox.mbox(tmp_path / "mixed.mbox")
    box.add(make_mail(sender="张伟 <zhang@customer.example>", subject="系统宕机，无法登录"))
    box.add(make_mail(sender="bo@customer.example", subject="printer"))
    box.close()
    assert (
        maildesk_in_process(
            "import", str(tmp_path / "mixed.mbox"), config=offline_config
        ).returncode
        == 0
    )

    listing = maildesk_in_process("tickets", "list", config=offline_config).stdout.splitlines()
    header = next(line for line in listing if "subject" in line)
    rows = [line for line in listing if "customer.example" in line]
    assert len(rows) == 2
    starts = {
        line[: line.index(word)] for line, word in zip(rows, ("系统", "printer"), strict=True)
    }
    assert {cell_len(prefix) for prefix in starts} == {header.index("subject")}

    stats = maildesk_in_process("stats", config=offline_config).stdout
    assert "{" not in stats and "'" not in stats, "no Python reprs"
    assert any(line.split()[:2] == ["tickets", "2"] for line in stats.splitlines())
    assert "open 2" in stats
