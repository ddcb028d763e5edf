"""OAuth2 for real: Dovecot's oauth2 passdb and an aiosmtpd XOAUTH2 handler check the
tokens that the generic provider gets from the loopback authorization server.

Tokens live 5 s on the test's clock: moving it past their life makes the server
refuse them and the desk refresh them, with nothing slept.
"""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from maildesk.cli import cli
from maildesk.daemon.loop import Daemon
from maildesk.errors import ConfigError, TemporaryFailure
from maildesk.transport.inbox import Inbox
from maildesk.transport.oauth2 import login as oauth_login
from tests.conftest import Clock, Mailbox, free_port, make_mail
from tests.support import cycle, stats, wait_until
from tests.transport.conftest import CLIENT_SECRET, OAuth, XOAuth2Sink, oauth_table

ONE_DATABASE = "the sign-in is settled before any database work"
one_database = [
    pytest.mark.one_database(ONE_DATABASE),
    pytest.mark.parametrize("database_kind", ["sqlite"]),
]


def with_desk(test):
    """Marks a test that runs a desk (an App): on SQLite only, the sign-in is the point."""
    for mark in reversed(one_database):
        test = mark(test)
    return test


@pytest.fixture(autouse=True)
def client_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAILDESK_OAUTH_SECRET", CLIENT_SECRET)


def desk_toml(
    oauth: OAuth,
    box: Mailbox,
    token_file: Path,
    sink: XOAuth2Sink | None = None,
    imap_extra: str = "",
) -> str:
    """[imap] and (with a sink) [smtp] signing in with the generic provider's tokens."""
    text = f"""
[imap]
host = "127.0.0.1"
port = {oauth.imap.port}
security = "none"
username = "{box.user}"
auth = "oauth2"
poll_interval = 0.5
idle = false
{oauth_table("imap.oauth2", oauth.url, token_file, imap_extra)}
"""
    if sink is not None:
        text += f"""
[smtp]
host = "127.0.0.1"
port = {sink.port}
security = "none"
username = "{box.user}"
from_address = "support@desk.example"
auth = "oauth2"
{oauth_table("smtp.oauth2", oauth.url, token_file)}
"""
    return text


def signed_in(oauth: OAuth, box: Mailbox, tmp_path: Path) -> Path:
    """A token file holding a refresh token of `box`'s user (what `oauth login` leaves)."""
    path = tmp_path / "token.json"
    path.write_text(json.dumps({"refresh_token": oauth.server.refresh_token_for(box.user)}))
    return path


def grants(oauth: OAuth, kind: str) -> int:
    return sum(1 for r in oauth.server.token_requests if r.get("grant_type") == kind)


@with_desk
def test_intake_and_outbox_sign_in_with_tokens(
    oauth, oauth_mailbox, oauth_sink, tmp_path, make_app
):
    token_file = signed_in(oauth, oauth_mailbox, tmp_path)
    first = json.loads(token_file.read_text())["refresh_token"]
    app = make_app(extra=desk_toml(oauth, oauth_mailbox, token_file, oauth_sink))
    oauth_mailbox.deliver(make_mail(subject="Printer on fire"))

    result, sent = cycle(app)

    assert result.outcomes == {"stored": 1}
    assert sent.sent == 1 and oauth_sink.logins == [oauth_mailbox.user]
    assert "[Ticket#" in oauth_sink.messages[0]["Subject"]
    assert oauth_mailbox.count("INBOX") == 0  # moved to Processed after the commit
    assert grants(oauth, "refresh_token") == 2  # one token for IMAP, one for SMTP
    assert json.loads(token_file.read_text())["refresh_token"] != first  # the newest kept
    assert token_file.stat().st_mode & 0o077 == 0


def test_oauthbearer_and_a_cached_token(oauth, oauth_mailbox, tmp_path, desk_config, clock):
    token_file = signed_in(oauth, oauth_mailbox, tmp_path)
    extra = 'mechanism = "oauthbearer"'
    imap = desk_config(desk_toml(oauth, oauth_mailbox, token_file, imap_extra=extra)).mailboxes[0]
    for _ in range(2):  # the second connection reuses the token: still in its life
        with Inbox(imap.imap, clock) as inbox:
            assert inbox.uids() == []
    assert grants(oauth, "refresh_token") == 1


def test_a_token_past_its_life_is_refreshed_before_use(
    oauth, oauth_mailbox, tmp_path, desk_config, clock: Clock
):
    token_file = signed_in(oauth, oauth_mailbox, tmp_path)
    imap = desk_config(desk_toml(oauth, oauth_mailbox, token_file)).mailboxes[0].imap
    with Inbox(imap, clock):
        pass
    clock.advance(seconds=4)  # 1 s left: within the margin, so renewed before it runs out
    with Inbox(imap, clock) as inbox:
        assert inbox.uids() == []
    assert grants(oauth, "refresh_token") == 2


@with_desk
def test_a_token_the_server_refuses_early_is_replaced_once(
    oauth, oauth_mailbox, oauth_sink, tmp_path, make_app
):
    token_file = signed_in(oauth, oauth_mailbox, tmp_path)
    app = make_app(extra=desk_toml(oauth, oauth_mailbox, token_file, oauth_sink))
    oauth_mailbox.deliver(make_mail(subject="first"))
    cycle(app)
    oauth.server.access_tokens.clear()  # revoked at the provider while still cached here
    oauth_mailbox.deliver(make_mail(sender="bob@customer.example", subject="second"))
    result, sent = cycle(app)
    assert result.outcomes == {"stored": 1} and sent.sent == 1
    assert grants(oauth, "refresh_token") == 4  # IMAP and SMTP, each once more


def test_a_refused_refresh_is_one_error_with_the_command_and_held(
    oauth, oauth_mailbox, tmp_path, desk_config, clock
):
    token_file = tmp_path / "token.json"
    token_file.write_text(json.dumps({"refresh_token": "rt-revoked"}))
    imap = desk_config(desk_toml(oauth, oauth_mailbox, token_file)).mailboxes[0].imap
    message = (
        "mailbox 'default': OAuth2 token refused by generic (invalid_grant: token revoked); "
        "run `maildesk oauth login default` to sign in again"
    )
    for _ in range(2):
        with pytest.raises(ConfigError) as refused:
            Inbox(imap, clock).connect()
        assert str(refused.value) == message
    assert grants(oauth, "refresh_token") == 1, "the second try waits out the hold"

    signed_in(oauth, oauth_mailbox, tmp_path)  # a new login: used at once, no wait
    with Inbox(imap, clock) as inbox:
        assert inbox.uids() == []


def test_an_unreachable_token_endpoint_is_a_temporary_failure(
    oauth, oauth_mailbox, tmp_path, desk_config, clock
):
    toml = desk_toml(oauth, oauth_mailbox, signed_in(oauth, oauth_mailbox, tmp_path))
    config = desk_config(toml.replace(oauth.url, f"http://127.0.0.1:{free_port()}"))
    with pytest.raises(TemporaryFailure, match="^mailbox 'default': OAuth2 token endpoint unre"):
        Inbox(config.mailboxes[0].imap, clock).connect()


def test_a_token_the_server_refuses_when_new_names_the_fix(
    oauth, oauth_mailbox, tmp_path, desk_config, clock
):
    box = Mailbox(oauth_mailbox.server, "someone-else@example.test")
    token_file = signed_in(oauth, oauth_mailbox, tmp_path)  # a token of another user
    imap = desk_config(desk_toml(oauth, box, token_file)).mailboxes[0].imap
    with pytest.raises(ConfigError, match="IMAP refused the new OAuth2 token of 'someone-else"):
        Inbox(imap, clock).connect()


@with_desk
def test_the_daemon_runs_past_the_tokens_life(
    oauth, oauth_mailbox, oauth_sink, tmp_path, make_app, clock: Clock
):
    token_file = signed_in(oauth, oauth_mailbox, tmp_path)
    app = make_app(extra=desk_toml(oauth, oauth_mailbox, token_file, oauth_sink))
    daemon = Daemon(app)
    daemon.start()
    try:
        oauth_mailbox.deliver(make_mail(subject="first"))
        oauth_sink.wait_for(1, timeout=60)
        old_tokens = set(oauth.server.access_tokens)
        clock.advance(seconds=30)  # every token issued so far has run out
        assert not any(oauth.server.introspect(t)["active"] for t in old_tokens)
        oauth_mailbox.deliver(make_mail(sender="bob@customer.example", subject="second"))
        oauth_sink.wait_for(2, timeout=60)
        wait_until(lambda: stats(app)["tickets"] == 2)
    finally:
        daemon.shutdown()
    assert grants(oauth, "refresh_token") >= 4  # IMAP and SMTP, before and after
    assert oauth_sink.logins == [oauth_mailbox.user] * len(oauth_sink.logins)


def test_oauth_login_runs_the_device_flow_and_keeps_the_token(
    oauth, oauth_mailbox, tmp_path, desk_config
):
    token_file = tmp_path / "token.json"
    config = desk_config(desk_toml(oauth, oauth_mailbox, token_file))
    oauth.server.device_user = oauth_mailbox.user  # the user approves at once
    result = CliRunner().invoke(cli, ["--config", str(config.path), "oauth", "login", "default"])
    assert result.exit_code == 0, result.output
    assert "/activate and enter WDJB-MJHT" in result.output
    kept = json.loads(token_file.read_text())["refresh_token"]
    assert oauth.server.refresh_tokens[kept] == oauth_mailbox.user

    with pytest.raises(ConfigError, match=r"'nobody' signs in with OAuth2 \(those that do: def"):
        oauth_login.table_of(config, "nobody")
