"""`auth` and the `oauth2` tables: defaults per provider and flow, and errors that name
the key and the fix."""

import re
from pathlib import Path

import pytest

from maildesk import config
from maildesk.errors import ConfigError

MINIMAL = {"desk": {"name": "Desk"}, "database": {"url": "sqlite://"}}
IMAP = {"host": "outlook.office365.com", "username": "support@contoso.example"}
MICROSOFT = {"provider": "microsoft", "tenant": "contoso", "client_id": "c"}
SMTP = {"host": "smtp.office365.com", "from_address": "support@contoso.example"}


def parse(imap: dict | None = None, **sections: dict) -> config.Config:
    return config.parse(MINIMAL | ({"imap": imap} if imap else {}) | sections)


def test_microsoft_app_flow_defaults(tmp_path: Path):
    found = parse(
        IMAP | {"auth": "oauth2", "oauth2": MICROSOFT | {"client_secret_env": "S"}}
    ).mailboxes[0]
    table = found.imap.oauth2
    assert found.imap.auth == "oauth2" and table is not None
    assert (table.flow, table.scope) == ("app", "https://outlook.office365.com/.default")
    assert table.authority == "https://login.microsoftonline.com/contoso"
    assert (table.owner, table.login_command) == ("default", "maildesk oauth login default")
    assert found.imap.password.env == "", "no password needed with a token"


def test_secrets_come_from_files_too(tmp_path: Path):
    secret = tmp_path / "secret"
    secret.write_text("s3cret\n")
    table = MICROSOFT | {"client_secret_file": str(secret)}
    found = parse(IMAP | {"auth": "oauth2", "oauth2": table}).mailboxes[0].imap.oauth2
    assert found is not None and found.client_secret.value() == "s3cret"


def test_smtp_and_each_mailbox_have_their_own_table(tmp_path: Path):
    generic = {"provider": "generic", "token_url": "https://auth.example/token", "client_id": "c"}
    generic |= {"token_file": str(tmp_path / "t.json")}
    found = parse(
        mailboxes=[IMAP | {"name": "sales", "auth": "oauth2", "oauth2": generic}],
        smtp=SMTP | {"username": "u@contoso.example", "auth": "oauth2", "oauth2": generic},
    )
    imap_table, smtp_table = found.mailboxes[0].imap.oauth2, found.smtp.oauth2
    assert imap_table.owner == "sales" and imap_table.key == "mailboxes[0].oauth2"
    assert smtp_table.owner == "smtp" and smtp_table.flow == "delegated"


@pytest.mark.parametrize(
    ("imap", "sections", "message"),
    [
        (IMAP | {"auth": "oauth2"}, {}, 'imap.oauth2: auth = "oauth2" needs this table'),
        (
            IMAP | {"password_env": "P", "oauth2": MICROSOFT},
            {},
            'imap.oauth2: only used with imap.auth = "oauth2"',
        ),
        (IMAP | {"auth": "token"}, {}, "imap.auth: 'token' is not one of password, oauth2"),
        (
            IMAP | {"auth": "oauth2", "oauth2": MICROSOFT},
            {},
            "imap.oauth2.client_secret_env: the app flow needs client_secret_env, "
            "client_secret_file or certificate_file",
        ),
        (
            IMAP | {"auth": "oauth2", "oauth2": {"provider": "google"}},
            {},
            "imap.oauth2.service_account_file: required for a Google service account",
        ),
        (
            IMAP
            | {
                "auth": "oauth2",
                "oauth2": {
                    "provider": "generic",
                    "client_id": "c",
                    "token_url": "http://auth.example/token",
                    "refresh_token_env": "R",
                },
            },
            {},
            "imap.oauth2.token_url: 'http://auth.example/token' must be an https URL",
        ),
        (
            IMAP
            | {
                "auth": "oauth2",
                "oauth2": {"provider": "generic", "client_id": "c", "token_url": "https://a/t"},
            },
            {},
            "imap.oauth2.token_file: the delegated flow needs token_file (written by "
            "`maildesk oauth login default`), refresh_token_env or refresh_token_file",
        ),
        (
            None,
            {"smtp": SMTP | {"auth": "oauth2", "oauth2": MICROSOFT | {"client_secret_env": "S"}}},
            'smtp.username: required with auth = "oauth2"',
        ),
        (
            None,
            {
                "smtp": SMTP
                | {
                    "username": "u",
                    "auth": "oauth2",
                    "oauth2": MICROSOFT | {"client_secret_env": "S", "mechanism": "oauthbearer"},
                }
            },
            'smtp.oauth2.mechanism: SMTP signs in with "xoauth2" only',
        ),
        (
            IMAP
            | {
                "auth": "oauth2",
                "oauth2": MICROSOFT | {"client_secret_env": "S", "client_secret_file": "/x"},
            },
            {},
            "imap.oauth2.client_secret_file: no file '/x'",
        ),
        (
            IMAP | {"auth": "oauth2", "oauth2": MICROSOFT | {"client_secret_env": "S", "x": 1}},
            {},
            "imap.oauth2.x: unknown key",
        ),
    ],
)
def test_errors_name_the_key_and_the_fix(imap, sections, message):
    with pytest.raises(ConfigError, match=f"^{re.escape(message)}"):
        parse(imap, **sections)
