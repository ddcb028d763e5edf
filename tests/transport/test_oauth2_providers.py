"""The microsoft (msal) and google (google-auth) providers, pointed at the loopback
authorization server: the token requests the libraries build, and a real IMAP
sign-in to the oauth2 Dovecot with what they got.

msal takes only an https authority, so it talks to the same server over TLS
(a trustme CA, given as oauth2.ca_file); google-auth takes the token URL of the
service account's key file, or of the table.
"""

import json
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest
import trustme
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from maildesk.config import Config
from maildesk.errors import ConfigError
from maildesk.transport.inbox import Inbox
from maildesk.transport.oauth2 import login as oauth_login
from tests.conftest import Mailbox
from tests.oauth_server import JWT_BEARER, serve
from tests.transport.conftest import OAuth

pytest.importorskip("msal")
pytest.importorskip("google.auth")


@pytest.fixture(scope="module")
def https_oauth(
    oauth_session: OAuth, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    """The session's authorization server over TLS too; its URL and the CA's PEM file."""
    ca = trustme.CA()
    folder = tmp_path_factory.mktemp("https-oauth")
    ca.cert_pem.write_to_path(str(folder / "ca.pem"))
    ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(str(folder / "s.pem"))
    url, stop = serve(oauth_session.server, folder / "s.pem")
    yield url, folder / "ca.pem"
    stop()


def imap_toml(oauth: OAuth, box: Mailbox, table: str) -> str:
    return f"""
[imap]
host = "127.0.0.1"
port = {oauth.imap.port}
security = "none"
username = "{box.user}"
auth = "oauth2"
idle = false

[imap.oauth2]
{table}
"""


def sign_in(config: Config, clock) -> None:
    with Inbox(config.mailboxes[0].imap, clock) as inbox:
        assert inbox.uids() == []


def test_microsoft_app_flow_builds_the_client_credentials_request(
    oauth, https_oauth, oauth_mailbox, desk_config, clock, monkeypatch
):
    url, ca_file = https_oauth
    oauth.server.register("ms-app", "ms-secret", user=oauth_mailbox.user)
    monkeypatch.setenv("MS_SECRET", "ms-secret")
    table = f"""provider = "microsoft"
tenant = "contoso.example"
authority = "{url}/contoso.example"
client_id = "ms-app"
client_secret_env = "MS_SECRET"
ca_file = "{ca_file}"
"""
    sign_in(desk_config(imap_toml(oauth, oauth_mailbox, table)), clock)
    (request,) = oauth.server.token_requests
    assert request["grant_type"] == "client_credentials"
    assert request["client_id"] == "ms-app" and request["client_secret"] == "ms-secret"
    assert request["scope"] == "https://outlook.office365.com/.default"


def test_microsoft_app_flow_with_a_certificate_signs_its_assertion(
    oauth, https_oauth, oauth_mailbox, desk_config, clock, tmp_path
):
    url, ca_file = https_oauth
    oauth.server.register("ms-cert-app", "", user=oauth_mailbox.user)
    key, public = rsa_key()
    (tmp_path / "app-key.pem").write_bytes(key)
    table = f"""provider = "microsoft"
tenant = "contoso.example"
authority = "{url}/contoso.example"
client_id = "ms-cert-app"
certificate_file = "{tmp_path / "app-key.pem"}"
certificate_thumbprint = "A1B2C3D4E5F60718293A4B5C6D7E8F9012345678"
ca_file = "{ca_file}"
"""
    sign_in(desk_config(imap_toml(oauth, oauth_mailbox, table)), clock)
    (request,) = oauth.server.token_requests
    assert "client_secret" not in request
    assert request["client_assertion_type"].endswith(":client-assertion-type:jwt-bearer")
    claims = jwt.decode(
        request["client_assertion"], public, algorithms=["RS256"], audience=f"{url}/token"
    )
    assert claims["iss"] == claims["sub"] == "ms-cert-app"


def test_microsoft_delegated_login_and_refresh(
    oauth, https_oauth, oauth_mailbox, desk_config, clock, tmp_path
):
    url, ca_file = https_oauth
    oauth.server.register("ms-public", "")
    token_file = tmp_path / "ms-token.json"
    table = f"""provider = "microsoft"
flow = "delegated"
tenant = "contoso.example"
authority = "{url}/contoso.example"
client_id = "ms-public"
token_file = "{token_file}"
ca_file = "{ca_file}"
"""
    config = desk_config(imap_toml(oauth, oauth_mailbox, table))
    oauth.server.device_user = oauth_mailbox.user
    shown: list[str] = []
    oauth_login.device_login(config.mailboxes[0].imap.oauth2, shown.append)
    assert shown == [f"To sign in, open {url}/activate and enter WDJB-MJHT."]
    assert oauth.server.refresh_tokens[json.loads(token_file.read_text())["refresh_token"]]

    sign_in(config, clock)
    refresh = oauth.server.token_requests[-1]
    assert refresh["grant_type"] == "refresh_token" and refresh["client_id"] == "ms-public"
    assert "https://outlook.office365.com/IMAP.AccessAsUser.All" in refresh["scope"].split()


def rsa_key() -> tuple[bytes, str]:
    """A new RSA key: the private key's PEM, the public key's PEM."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public.decode()


def service_account(oauth: OAuth, folder: Path, token_url: str) -> Path:
    """A Google service account's key file, its public key registered at the server."""
    private, public = rsa_key()
    email = "desk@project.iam.gserviceaccount.example"
    oauth.server.register(email, "", public_key=public)
    path = folder / "service-account.json"
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": "project",
                "private_key_id": "k1",
                "private_key": private.decode(),
                "client_email": email,
                "client_id": "1234",
                "token_uri": token_url,
            }
        )
    )
    return path


def test_google_service_account_acts_for_the_mailbox(
    oauth, oauth_mailbox, desk_config, clock, tmp_path
):
    key_file = service_account(oauth, tmp_path, f"{oauth.url}/token")
    table = f'provider = "google"\nservice_account_file = "{key_file}"\n'
    sign_in(desk_config(imap_toml(oauth, oauth_mailbox, table)), clock)
    (request,) = oauth.server.token_requests
    assert request["grant_type"] == JWT_BEARER  # its signature checked by the server
    claims = jwt.decode(request["assertion"], options={"verify_signature": False})
    assert claims["sub"] == oauth_mailbox.user  # domain-wide delegation: acting for the mailbox
    assert claims["scope"] == "https://mail.google.com/"


def test_google_delegated_refresh_token(oauth, oauth_mailbox, desk_config, clock, tmp_path):
    refresh_file = tmp_path / "refresh-token"
    refresh_file.write_text(oauth.server.refresh_token_for(oauth_mailbox.user) + "\n")
    oauth.server.register("google-app", "google-secret")
    (tmp_path / "secret").write_text("google-secret")
    table = f"""provider = "google"
flow = "delegated"
token_url = "{oauth.url}/token"
client_id = "google-app"
client_secret_file = "{tmp_path / "secret"}"
refresh_token_file = "{refresh_file}"
"""
    config = desk_config(imap_toml(oauth, oauth_mailbox, table))
    sign_in(config, clock)
    (request,) = oauth.server.token_requests
    assert request["grant_type"] == "refresh_token"
    assert request["scope"] == "https://mail.google.com/"
    with pytest.raises(ConfigError, match="Google's device flow does not allow the Gmail scope"):
        oauth_login.device_login(config.mailboxes[0].imap.oauth2, print)
