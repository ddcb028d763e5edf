"""Microsoft 365 tokens through msal (the `microsoft` extra).

flow "app": client credentials with a secret or a certificate; the scope
`https://outlook.office365.com/.default` carries the IMAP.AccessAsApp and
SMTP.SendAsApp permissions the tenant granted. flow "delegated": a user's
refresh token, from `maildesk oauth login` (the device code flow, which needs
a public client: "Allow public client flows" on the app registration).
"""

from collections.abc import Callable
from typing import Any

import msal

from maildesk.config.oauth2 import OAuth2Config
from maildesk.transport.oauth2 import http
from maildesk.transport.oauth2.grants import Grant, GrantRefused, Unreachable

_PUBLIC_CLOUD = "https://login.microsoftonline.com/"


def grant(config: OAuth2Config, refresh_token: str) -> Grant:
    scopes = config.scope.split()
    if config.flow == "app":
        return _grant(lambda: _confidential(config).acquire_token_for_client(scopes=scopes))
    app = _confidential(config) if _credential(config) else _public(config)
    return _grant(lambda: app.acquire_token_by_refresh_token(refresh_token, scopes=scopes))


def device_login(config: OAuth2Config, show: Callable[[str], None]) -> Grant:
    """The device code flow: msal prints nothing itself; it polls until approved."""
    app = _public(config)
    flow = _answer(lambda: app.initiate_device_flow(scopes=config.scope.split()))
    if "user_code" not in flow:
        raise GrantRefused(
            flow.get("error", "device flow refused"), flow.get("error_description", "")
        )
    show(flow["message"])
    return _grant(lambda: app.acquire_token_by_device_flow(flow))


def _options(config: OAuth2Config) -> dict[str, Any]:
    """The authority (another cloud's, or a test's, is not checked against Microsoft's list)."""
    return {
        "authority": config.authority,
        "instance_discovery": None if config.authority.startswith(_PUBLIC_CLOUD) else False,
        "http_client": http.session(config),
    }


def _credential(config: OAuth2Config) -> str | dict[str, str]:
    if config.certificate is not None:
        return {
            "private_key": config.certificate.value(),
            "thumbprint": config.certificate_thumbprint,
        }
    return config.client_secret.value()


def _confidential(config: OAuth2Config) -> msal.ConfidentialClientApplication:
    return _answer(
        lambda: msal.ConfidentialClientApplication(
            config.client_id, client_credential=_credential(config), **_options(config)
        )
    )


def _public(config: OAuth2Config) -> msal.PublicClientApplication:
    return _answer(lambda: msal.PublicClientApplication(config.client_id, **_options(config)))


def _answer(call: Callable[[], Any]) -> Any:
    """Run an msal call; its network and discovery errors become Unreachable."""
    try:
        return call()
    except (OSError, ValueError) as exc:  # requests' errors are OSErrors
        raise Unreachable(str(exc)) from exc


def _grant(call: Callable[[], Any]) -> Grant:
    result = _answer(call)
    if "access_token" not in result:
        raise GrantRefused(result.get("error", "no token"), result.get("error_description", ""))
    return Grant(
        result["access_token"],
        float(result.get("expires_in", 3600)),
        result.get("refresh_token", ""),
    )
