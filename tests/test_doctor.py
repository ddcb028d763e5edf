"""`maildesk doctor` against real servers (Dovecot, aiosmtpd): every check's line, and
each failure produced once: a wrong password, a missing folder, a bad certificate."""

import json
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from maildesk.cli import cli
from maildesk.store import db
from tests.conftest import PASSWORD, free_port, maildesk_in_process
from tests.desk.test_notice_limits import ONE_AGENT
from tests.tls_servers import imap_toml

ONE_DATABASE = "doctor reads the schema's revision only; the database kinds are the store's tests"
pytestmark = [
    pytest.mark.one_database(ONE_DATABASE),
    pytest.mark.parametrize("database_kind", ["sqlite"]),
]


def doctor(config: Path, *args: str) -> tuple[int, list[str]]:
    """Run `doctor` in this process; its exit code and its lines."""
    result = CliRunner().invoke(cli, ["--config", str(config), "doctor", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output.splitlines()


def lines_of(lines: list[str], name: str) -> list[str]:
    return [line for line in lines if line.split(":")[0].split(maxsplit=1)[-1] == name]


PEOPLE = ONE_AGENT  # Lin in team support, Boss its lead


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return tmp_path / "maildesk.toml"


def edit(config: Path, old: str, new: str) -> None:
    text = config.read_text()
    assert old in text
    config.write_text(text.replace(old, new, 1))


def test_a_ready_desk_passes_and_fix_makes_the_done_folders(mailbox, smtp_sink, make_app, config):
    make_app(mailbox, smtp_sink, extra=PEOPLE)

    code, lines = doctor(config)

    assert code == 0, lines
    assert lines[0] == f"ok   config: {config}: every key known and valid (2 servers)"
    assert (
        "ok   secrets: found: desk.secret_env (environment variable MAILDESK_SECRET),"
        " imap.password_env (environment variable MAILDESK_IMAP_PASSWORD)"
    ) in lines
    assert lines_of(lines, "database")[0].startswith("ok   database: sqlite:///")
    port = mailbox.server.port
    assert lines_of(lines, "mailbox default") == [
        f"ok   mailbox default: connect: 127.0.0.1:{port}",
        "ok   mailbox default: TLS: none (security = none, on loopback)",
        f"ok   mailbox default: login: as {mailbox.user}",
        "warn mailbox default: folders: Processed, Quarantine missing (`doctor --fix` creates"
        " them, as would the first poll)",
        "ok   mailbox default: IDLE: offered, not used (idle = false): a poll every 0.5 s",
    ]
    assert lines_of(lines, "smtp") == [
        f"ok   smtp: connect: 127.0.0.1:{smtp_sink.port}",
        "ok   smtp: TLS: none (security = none, on loopback)",
        "ok   smtp: login: none (no smtp.username)",
    ]
    assert lines_of(lines, "templates")[0].startswith("ok   templates: ")
    assert lines_of(lines, "agents")[0].startswith("ok   agents: 2 agents in 1 teams")
    assert lines_of(lines, "calendars") == ["ok   calendars: 1 load: default"]
    assert lines_of(lines, "web") == ["ok   web: no [web] listen: no survey page is served"]
    assert lines[-1] == "nothing failed"
    assert smtp_sink.received == [], "no mail sent without --send-test"

    code, lines = doctor(config, "--fix")
    assert code == 0
    assert "ok   mailbox default: folders: created Processed, Quarantine" in lines
    assert mailbox.count("Processed") == 0 and mailbox.count("Quarantine") == 0
    with mailbox.connect() as box:
        assert {"Processed", "Quarantine"} <= {f.name for f in box.folder.list()}
    assert not [line for line in doctor(config)[1] if line.startswith(("warn", "FAIL"))]


def test_a_wrong_password_fails_the_login_and_stops_that_mailbox(
    mailbox, smtp_sink, make_app, config, monkeypatch
):
    make_app(mailbox, smtp_sink)
    monkeypatch.setenv("MAILDESK_IMAP_PASSWORD", "not-" + PASSWORD)

    code, lines = doctor(config)

    assert code == 1
    assert lines_of(lines, "mailbox default")[2:] == [
        f"FAIL mailbox default: login: IMAP login as {mailbox.user!r} at 127.0.0.1:"
        f"{mailbox.server.port} refused ([AUTHENTICATIONFAILED] Authentication failed.);"
        " check imap.username and the password in $MAILDESK_IMAP_PASSWORD (imap.password_env)"
    ]
    assert lines_of(lines, "smtp")[0].startswith("ok"), "the other checks still run"
    assert lines[-1] == "1 failed"


def test_a_missing_folder_fails(mailbox, smtp_sink, make_app, config):
    make_app(mailbox, smtp_sink)
    edit(config, "idle = false", 'idle = false\nfolder = "Support"')

    code, lines = doctor(config, "--fix")

    assert code == 1
    assert "FAIL mailbox default: folders: 'Support' does not exist (imap.folder)" in lines, lines
    assert "ok   mailbox default: folders: created Processed, Quarantine" in lines
    with mailbox.connect() as box:
        assert "Support" not in {f.name for f in box.folder.list()}, "--fix makes no inbox"


def test_a_certificate_that_does_not_verify_fails_and_the_ca_file_passes(
    tls_dovecot, tls_mailbox, ca_file, make_app, config
):
    port = tls_dovecot.ports["starttls"]
    make_app(extra=imap_toml(tls_mailbox, port, "starttls"))

    code, lines = doctor(config)

    assert code == 1
    assert lines_of(lines, "mailbox default") == [
        f"FAIL mailbox default: TLS: IMAP 127.0.0.1:{port}: certificate verify failed: unable"
        " to get local issuer certificate (set imap.ca_file for a private CA)"
    ]

    edit(config, "idle = false", f'idle = false\nca_file = "{ca_file}"')
    code, lines = doctor(config)
    assert lines_of(lines, "mailbox default")[1].startswith("ok   mailbox default: TLS: TLSv1.")
    assert lines_of(lines, "mailbox default")[1].endswith(
        f"certificate of 127.0.0.1 verified against the CA in {ca_file}"
    )
    assert code == 0, lines


def test_verify_false_connects_with_a_warning(tls_dovecot, tls_mailbox, make_app, config):
    port = tls_dovecot.ports["ssl"]
    make_app(extra=imap_toml(tls_mailbox, port, "ssl").replace("idle = false", "verify = false"))

    code, lines = doctor(config)

    caution = (
        "imap.verify = false: the certificate of 127.0.0.1 is not checked; anyone on the"
        " path can pose as the server and take the password"
    )
    assert f"warn config: {caution}" in lines
    assert any(
        line.startswith("warn mailbox default: TLS: TLSv1.") and line.endswith(caution)
        for line in lines
    ), lines
    assert f"ok   mailbox default: login: as {tls_mailbox.user}" in lines
    assert code == 0


def test_send_test_sends_one_mail_and_json_lists_the_checks(mailbox, smtp_sink, make_app, config):
    make_app(mailbox, smtp_sink)

    result = maildesk_in_process(
        "doctor", "--json", "--send-test", "ops@elsewhere.example", config=config
    )

    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is True and report["failed"] == 0 and report["warnings"] == 1
    assert {
        "name": "smtp",
        "status": "ok",
        "detail": "test mail: sent to ops@elsewhere.example",
    } in (report["checks"])
    assert {c["status"] for c in report["checks"]} == {"ok", "warn"}
    ((sender, recipients, message),) = smtp_sink.received
    assert (sender, recipients) == ("support@desk.example", ["ops@elsewhere.example"])
    assert message["Subject"] == "maildesk doctor: test mail from Test Support"
    assert message["Auto-Submitted"] == "auto-generated"


def test_what_needs_no_server(tmp_path, make_app, config, monkeypatch):
    """Secrets, the schema, the people and the web listener; an unreadable config."""
    busy = socket.create_server(("127.0.0.1", 0))
    port = busy.getsockname()[1]
    own = PEOPLE.replace("boss@", "help@").replace("leads", 'address = "help@desk.example"\nleads')
    monitor = free_port()
    listeners = (
        f'\n[web]\nlisten = "127.0.0.1:{port}"\n[metrics]\nlisten = "127.0.0.1:{monitor}"\n'
    )
    app = make_app(extra=own + listeners)
    monkeypatch.delenv("MAILDESK_SECRET")
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    with busy:
        code, lines = doctor(config)
    assert code == 1
    assert [line for line in lines if line.startswith("FAIL secrets: desk.secret_env:")] == [
        "FAIL secrets: desk.secret_env: MAILDESK_SECRET not found: environment variable"
        " MAILDESK_SECRET is not set (or empty); no $CREDENTIALS_DIRECTORY/MAILDESK_SECRET"
        " ($CREDENTIALS_DIRECTORY is not set); no file /run/secrets/MAILDESK_SECRET"
    ]
    assert (
        "FAIL agents: agents[1]: help@desk.example is also the desk's own address (a mailbox,"
        " a team or the From address): the desk's own mail would pass for theirs"
    ) in lines
    assert (
        f"warn web: 127.0.0.1:{port} is in use: by a `maildesk run` already, or by another program"
    ) in lines
    assert f"ok   metrics: 127.0.0.1:{monitor} can be listened on" in lines
    assert "ok   smtp: " not in "\n".join(lines) and "warn smtp: no [smtp] section" in "\n".join(
        lines
    )

    with app.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '0009'")
    assert any(
        line.startswith("FAIL database: sqlite:///")
        and line.endswith(f"schema at 0009, want {db.SCHEMA_REVISION}; run `maildesk init`")
        for line in doctor(config)[1]
    )

    config.write_text("[desk\n")
    code, lines = doctor(config)
    assert code == 1 and lines[0].startswith(f"FAIL config: {config}: not valid TOML")
