"""The `oauth2` table of a mailbox or of `[smtp]`: who issues the tokens, and how.

Read only with `auth = "oauth2"`. Secrets (client secret, certificate key,
refresh token) come from `*_env` variables or `*_file` files, never the TOML.
The libraries of the microsoft and google providers are optional extras: a
missing one is named at load, with the command that installs it.
"""

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from maildesk.config.secrets import Secret, secret
from maildesk.config.toml_table import REQUIRED, Table
from maildesk.errors import ConfigError

AUTH_MODES = ("password", "oauth2")
PROVIDERS = ("microsoft", "google", "generic")
FLOWS = ("app", "delegated")
MECHANISMS = ("xoauth2", "oauthbearer")
_LIBRARY = {"microsoft": "msal", "google": "google.auth"}
_DEFAULT_FLOW = {"microsoft": "app", "google": "app", "generic": "delegated"}
_OUTLOOK = "https://outlook.office365.com/"
_DEFAULT_SCOPE = {
    ("microsoft", "app"): _OUTLOOK + ".default",
    ("microsoft", "delegated"): f"{_OUTLOOK}IMAP.AccessAsUser.All {_OUTLOOK}SMTP.Send",
    ("google", "app"): "https://mail.google.com/",
    ("google", "delegated"): "https://mail.google.com/",
}
GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token"  # noqa: S105 - a URL
_DEFAULT_TOKEN_URL = {"google": GOOGLE_TOKEN_URL, "microsoft": ""}  # msal finds its own
_LOOPBACK = ("127.0.0.1", "::1", "localhost")


@dataclass(frozen=True)
class OAuth2Config:
    """One token issuer. `owner` names the mailbox (or "smtp") in errors and in
    `maildesk oauth login OWNER`; `key` is the table's path (`mailboxes[1].oauth2`).

    flow "app": the application's own token (Microsoft's client credentials with
    IMAP.AccessAsApp / SMTP.SendAsApp, a Google service account acting for the
    mailbox); "delegated": a user's refresh token, from `oauth login`
    (kept in `token_file`) or given in `refresh_token_env` / `refresh_token_file`.
    """

    key: str
    owner: str
    provider: str
    flow: str
    client_id: str
    client_secret: Secret
    scope: str
    refresh_token: Secret
    token_file: Path | None = None
    token_url: str = ""  # generic, google delegated
    device_url: str = ""  # generic: the device authorization endpoint (RFC 8628)
    authority: str = ""  # microsoft: https://login.microsoftonline.com/<tenant>
    certificate: Secret | None = None  # microsoft: a PEM private key, with its thumbprint
    certificate_thumbprint: str = ""
    service_account_file: Path | None = None  # google app
    mechanism: str = "xoauth2"
    ca_file: Path | None = None  # a private CA of the token endpoint
    timeout: float = 30.0

    @property
    def login_command(self) -> str:
        return f"maildesk oauth login {self.owner}"


def auth(t: Table) -> str:
    return t.choice("auth", AUTH_MODES, "password")


def oauth2(t: Table, mode: str, owner: str) -> OAuth2Config | None:
    """The `oauth2` table of `t`, required with auth = "oauth2" and refused without it."""
    table = t.table("oauth2", required=False)
    if mode == "password":
        if table is not None:
            raise ConfigError(f'{table.path}: only used with {t.key("auth")} = "oauth2"')
        return None
    if table is None:
        raise ConfigError(f'{t.key("oauth2")}: auth = "oauth2" needs this table')
    config = _read(table, owner)
    table.reject_unknown()
    return config


def check_smtp(t: Table, username: str, config: OAuth2Config) -> None:
    """SMTP signs in as `username` with XOAUTH2, the one mechanism Microsoft's SMTP takes."""
    if not username:
        raise ConfigError(f'{t.key("username")}: required with auth = "oauth2"')
    if config.mechanism != "xoauth2":
        raise ConfigError(f'{config.key}.mechanism: SMTP signs in with "xoauth2" only')


def _read(t: Table, owner: str) -> OAuth2Config:
    provider = t.choice("provider", PROVIDERS)
    _check_library(t, provider)
    flow = t.choice("flow", FLOWS, _DEFAULT_FLOW[provider])
    token_file = t.get("token_file", str, None)
    certificate = t.file("certificate_file")
    config = OAuth2Config(
        key=t.path,
        owner=owner,
        provider=provider,
        flow=flow,
        client_id=t.get(
            "client_id", str, "" if provider == "google" and flow == "app" else REQUIRED
        ),
        client_secret=secret(t, "client_secret"),
        scope=t.get("scope", str, _DEFAULT_SCOPE.get((provider, flow), "")),
        refresh_token=secret(t, "refresh_token"),
        token_file=Path(token_file) if token_file else None,
        token_url=_url(t, "token_url", _DEFAULT_TOKEN_URL.get(provider)),
        device_url=_url(t, "device_url", ""),
        authority=_authority(t) if provider == "microsoft" else "",
        certificate=Secret(t.key("certificate_file"), "", certificate) if certificate else None,
        certificate_thumbprint=t.get("certificate_thumbprint", str, ""),
        service_account_file=t.file("service_account_file"),
        mechanism=t.choice("mechanism", MECHANISMS, "xoauth2"),
        ca_file=t.file("ca_file"),
        timeout=t.positive("timeout", 30.0),
    )
    _check_flow(t, config)
    return config


def _check_flow(t: Table, c: OAuth2Config) -> None:
    """What each provider and flow cannot do without, named at load."""
    if c.certificate is not None and not c.certificate_thumbprint:
        raise ConfigError(f"{t.key('certificate_thumbprint')}: required with certificate_file")
    if c.provider == "google" and c.flow == "app" and c.service_account_file is None:
        raise ConfigError(
            f"{t.key('service_account_file')}: required for a Google service account "
            '(flow = "app"); for a user\'s refresh token set flow = "delegated"'
        )
    has_secret = c.client_secret.env or c.client_secret.file or c.certificate
    if c.provider == "microsoft" and c.flow == "app" and not has_secret:
        raise ConfigError(
            f"{t.key('client_secret_env')}: the app flow needs client_secret_env, "
            "client_secret_file or certificate_file"
        )
    if c.flow == "delegated" and not (c.refresh_token.env or c.refresh_token.file or c.token_file):
        raise ConfigError(
            f"{t.key('token_file')}: the delegated flow needs token_file (written by "
            f"`{c.login_command}`), refresh_token_env or refresh_token_file"
        )


def _check_library(t: Table, provider: str) -> None:
    library = _LIBRARY.get(provider)
    if library is None:
        return
    try:
        found = importlib.util.find_spec(library) is not None
    except ModuleNotFoundError:  # the parent package (google) is missing too
        found = False
    if not found:
        raise ConfigError(
            f"{t.key('provider')}: {provider!r} needs the {library} library: "
            f"pip install 'maildesk[{provider}]'"
        )


def _url(t: Table, name: str, default: str | None) -> str:
    """An https URL (plain http only to loopback: the request carries secrets)."""
    value = t.get(name, str, REQUIRED if default is None else default)
    if not value:
        return ""
    parts = urlsplit(value)
    if parts.scheme != "https" and not (parts.scheme == "http" and parts.hostname in _LOOPBACK):
        raise ConfigError(f"{t.key(name)}: {value!r} must be an https URL (http only on loopback)")
    return value


def _authority(t: Table) -> str:
    """Microsoft's sign-in authority: the tenant's on the public cloud, unless given."""
    tenant = t.get("tenant", str)
    authority = t.get("authority", str, f"https://login.microsoftonline.com/{tenant}")
    if not authority.startswith("https://"):
        raise ConfigError(f"{t.key('authority')}: {authority!r} must be an https URL")
    return authority.rstrip("/")
