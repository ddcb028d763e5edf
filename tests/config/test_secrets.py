"""Where a secret is found: `*_file`, the variable `*_env` names, systemd's credentials
folder, the container's secrets folder; the error names every place looked at; the
desk's keys (rotation: several, each long enough)."""

from dataclasses import replace
from pathlib import Path

import pytest

from maildesk import config
from maildesk.app import desk_keys
from maildesk.config import Secret
from maildesk.errors import ConfigError
from maildesk.store import db

MINIMAL = {"desk": {"name": "Desk"}, "database": {"url": "sqlite://"}}
IMAP = {"host": "h", "username": "u"}
LONG_A, LONG_B = "a-secret-of-twenty-chars", "b-secret-of-twenty-chars"


@pytest.fixture
def places(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """(a systemd credentials folder set in $CREDENTIALS_DIRECTORY, a containers' one);
    the variable MAILDESK_SECRET unset."""
    credentials, containers = tmp_path / "credentials", tmp_path / "run-secrets"
    credentials.mkdir()
    containers.mkdir()
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(credentials))
    monkeypatch.delenv("MAILDESK_SECRET")
    return credentials, containers


def desk_secret(containers: Path, **desk: str) -> Secret:
    found = config.parse(MINIMAL | {"desk": {"name": "Desk", **desk}}).desk.secret
    return replace(found, container_secrets=containers)


def test_secret_file_is_the_twin_of_secret_env(tmp_path: Path, places):
    file = tmp_path / "desk-secret"
    file.write_text(f"{LONG_A}\n")
    secret = desk_secret(places[1], secret_file=str(file))
    assert (secret.key, secret.value(), secret.source()) == ("desk.secret_file", LONG_A, str(file))
    with pytest.raises(ConfigError, match="desk.secret_file: give secret_env or secret_file"):
        config.parse(
            MINIMAL | {"desk": {"name": "D", "secret_env": "X", "secret_file": str(file)}}
        )
    with pytest.raises(ConfigError, match="desk.secret_file: no file '/nowhere'"):
        config.parse(MINIMAL | {"desk": {"name": "D", "secret_file": "/nowhere"}})


def test_password_file_is_the_twin_of_password_env(tmp_path: Path):
    file = tmp_path / "imap-password"
    file.write_text("pw\n")
    found = config.parse(MINIMAL | {"imap": IMAP | {"password_file": str(file)}})
    assert found.mailboxes[0].imap.password.value() == "pw"
    smtp = {"host": "h", "from_address": "s@h.example", "password_file": str(file)}
    assert config.parse(MINIMAL | {"smtp": smtp}).smtp.password.value() == "pw"
    with pytest.raises(ConfigError, match=r"imap.password_env: required key is missing \(or"):
        config.parse(MINIMAL | {"imap": IMAP})


def test_after_the_variable_come_systemd_credentials_then_container_secrets(
    places, monkeypatch: pytest.MonkeyPatch
):
    credentials, containers = places
    secret = desk_secret(containers)
    (containers / "MAILDESK_SECRET").write_text(LONG_B)
    assert (secret.value(), secret.source()) == (LONG_B, str(containers / "MAILDESK_SECRET"))
    (credentials / "MAILDESK_SECRET").write_text(f"{LONG_A}\n")
    assert (secret.value(), secret.source()) == (LONG_A, str(credentials / "MAILDESK_SECRET"))
    monkeypatch.setenv("MAILDESK_SECRET", "from-the-environment")
    assert secret.value() == "from-the-environment"
    assert secret.source() == "environment variable MAILDESK_SECRET"
    monkeypatch.setenv("MAILDESK_SECRET", "")
    assert secret.value() == LONG_A, "an empty variable counts as not set"


def test_a_secret_found_nowhere_names_every_place(places, monkeypatch: pytest.MonkeyPatch):
    credentials, containers = places
    secret = desk_secret(containers)
    with pytest.raises(ConfigError) as error:
        secret.value()
    assert str(error.value) == (
        "desk.secret_env: MAILDESK_SECRET not found: environment variable MAILDESK_SECRET is"
        f" not set (or empty); no file {credentials}/MAILDESK_SECRET;"
        f" no file {containers}/MAILDESK_SECRET"
    )
    monkeypatch.delenv("CREDENTIALS_DIRECTORY")
    with pytest.raises(ConfigError, match=r"no \$CREDENTIALS_DIRECTORY/MAILDESK_SECRET \(\$CRED"):
        secret.value()
    assert secret.value(required=False) == ""


def test_the_desk_secret_holds_several_keys_newest_first(places):
    credentials, containers = places
    (credentials / "MAILDESK_SECRET").write_text(f"{LONG_B}\n{LONG_A}\n")
    assert desk_keys(desk_secret(containers)).all == (LONG_B, LONG_A)
    (credentials / "MAILDESK_SECRET").write_text(f"{LONG_B}, {LONG_A}")
    keys = desk_keys(desk_secret(containers))
    assert keys.signing == LONG_B and LONG_A not in repr(keys)


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("short", "the secret in {place} is too short (at least 16 characters)"),
        (f"{LONG_B} short", "secret 2 of 2 in {place} is too short (at least 16 characters)"),
        (" \n", "{place} is empty"),
    ],
)
def test_a_short_or_empty_key_fails_naming_the_key(places, value: str, error: str):
    credentials, containers = places
    (credentials / "MAILDESK_SECRET").write_text(value)
    with pytest.raises(ConfigError) as raised:
        desk_keys(desk_secret(containers))
    place = credentials / "MAILDESK_SECRET"
    assert str(raised.value) == "desk.secret_env: " + error.format(place=place)


def test_the_database_password_stays_out_of_the_url(tmp_path: Path):
    file = tmp_path / "db-password"
    file.write_text("pg-pass\n")
    url = "postgresql://maildesk@db.example/maildesk"
    found = config.parse(MINIMAL | {"database": {"url": url, "password_file": str(file)}})
    password = found.database.password.value()
    engine = db.make_engine(found.database.url, password=password)
    assert (password, engine.url.password, engine.url.username) == (
        "pg-pass",
        "pg-pass",
        "maildesk",
    )
    engine.dispose()
    assert config.parse(MINIMAL).database.password.value() == "", "none named, none wanted"


def test_a_credential_file_that_cannot_be_read_is_named(places):
    credentials, containers = places
    (credentials / "MAILDESK_SECRET").mkdir()  # not a file: passed over
    (containers / "MAILDESK_SECRET").write_bytes(b"\xff\xfe not utf-8")
    with pytest.raises(ConfigError, match=f"desk.secret_env: cannot read '{containers}/MAILD"):
        desk_secret(containers).value()
