"""OAuth2 on real servers: the loopback authorization server (tests/oauth_server.py),
a Dovecot whose oauth2 passdb asks it about each token (introspection), and an
aiosmtpd that takes AUTH XOAUTH2 with the same tokens. Tokens live 5 s on the
test's clock; the tests move the clock, never sleep.
"""

import base64
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiosmtpd.smtp import AuthResult

from maildesk import config as config_module
from maildesk.config import Config
from tests.conftest import (
    PASSWORD,
    T0,
    Clock,
    ImapServer,
    Mailbox,
    SmtpSink,
    _find_dovecot,
    _SinkController,
    config_text,
    free_port,
    start_dovecot,
)
from tests.oauth_server import AuthServer, serve

# The oauth2 passdb for XOAUTH2 and OAUTHBEARER; passwords still log in (to deliver mail).
OAUTH_AUTH = """
auth_mechanisms = plain login xoauth2 oauthbearer
passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {d}/oauth2.conf.ext
}}
passdb {{
  driver = static
  mechanisms = plain login
  args = password={password}
}}
"""
CLIENT_ID, CLIENT_SECRET = "maildesk-test", "client-secret-1"


@dataclass
class OAuth:
    """The authorization server of this session, its base URL, and the IMAP server that
    asks it about tokens."""

    server: AuthServer
    url: str
    imap: ImapServer


@pytest.fixture(scope="session")
def oauth_session() -> Iterator[OAuth]:
    binary = _find_dovecot()
    if binary is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Dovecot is missing on CI: .ci/run must install dovecot-imapd")
        pytest.skip("Dovecot not installed (apt-get install dovecot-imapd)")
    auth = AuthServer(clock=Clock(T0))
    url, stop = serve(auth)
    settings = Path(tempfile.mkdtemp(prefix="maildesk-oauth-")) / "oauth2.conf.ext"
    settings.write_text(
        f"introspection_mode = post\nintrospection_url = {url}/introspect\n"
        "username_attribute = username\nactive_attribute = active\nactive_value = true\n"
    )
    settings.parent.chmod(0o755)
    port = free_port()
    proc, folder = start_dovecot(
        binary, port, PASSWORD, auth=OAUTH_AUTH.replace("{d}/oauth2.conf.ext", str(settings))
    )
    try:
        yield OAuth(auth, url, ImapServer("dovecot-oauth2", port))
    finally:
        proc.terminate()
        proc.wait(15)
        stop()
        shutil.rmtree(folder, ignore_errors=True)
        shutil.rmtree(settings.parent, ignore_errors=True)


@pytest.fixture
def oauth(oauth_session: OAuth, clock: Clock) -> Iterator[OAuth]:
    """The session's server on this test's clock, its client registered, tokens of 5 s."""
    auth = oauth_session.server
    auth.clock, auth.token_seconds, auth.device_user = clock, 5, ""
    auth.register(CLIENT_ID, CLIENT_SECRET)
    auth.token_requests.clear()
    yield oauth_session


@pytest.fixture
def oauth_mailbox(oauth: OAuth) -> Mailbox:
    """A fresh user of the OAuth2 Dovecot (delivered to with the password)."""
    return Mailbox(oauth.imap, oauth.imap.new_user())


@dataclass
class XOAuth2Sink(SmtpSink):
    """An SMTP sink that takes mail only after AUTH XOAUTH2 with a token the
    authorization server calls active; `logins` are the users signed in."""

    auth: AuthServer | None = None
    logins: list[str] | None = None

    async def auth_XOAUTH2(self, server, args) -> AuthResult:  # noqa: N802 - aiosmtpd's name
        text = base64.b64decode(args[1]).decode()
        fields = dict(part.split("=", 1) for part in text.split("\x01") if "=" in part)
        token = fields.get("auth", "").removeprefix("Bearer ")
        assert self.auth is not None and self.logins is not None
        known = self.auth.introspect(token)
        if not known["active"] or known["username"] != fields.get("user"):
            return AuthResult(success=False, handled=False, message="535 5.7.8 token invalid")
        self.logins.append(fields["user"])
        return AuthResult(success=True, auth_data=fields["user"])

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802
        if not session.authenticated:
            return "530 5.7.0 Authentication required"
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def oauth_sink(oauth: OAuth) -> Iterator[XOAuth2Sink]:
    sink = XOAuth2Sink(port=free_port(), auth=oauth.server, logins=[])
    controller = _SinkController(
        sink,
        hostname="127.0.0.1",
        port=sink.port,
        auth_require_tls=False,
        auth_exclude_mechanism=["LOGIN", "PLAIN"],
    )
    controller.start()
    sink.connections = 0
    try:
        yield sink
    finally:
        controller.stop()


def oauth_table(key: str, url: str, token_file: Path, extra: str = "") -> str:
    """The TOML of a generic provider's table `key` (e.g. "imap.oauth2")."""
    return f"""
[{key}]
provider = "generic"
token_url = "{url}/token"
device_url = "{url}/device"
client_id = "{CLIENT_ID}"
client_secret_env = "MAILDESK_OAUTH_SECRET"
scope = "mail"
token_file = "{token_file}"
{extra}
"""


@pytest.fixture
def desk_config(tmp_path: Path) -> Callable[[str], Config]:
    """The config of `extra` TOML, written to maildesk.toml: for what needs no App."""

    def load(extra: str) -> Config:
        path = tmp_path / "maildesk.toml"
        path.write_text(config_text(tmp_path / "desk.db", None, None, None, extra))
        return config_module.load(path)

    return load
