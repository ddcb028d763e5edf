"""The generic provider: a plain OAuth2 token endpoint (RFC 6749), over the stdlib's
urllib, and its device authorization (RFC 8628) for `maildesk oauth login`."""

import json
import ssl
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from maildesk.config.oauth2 import OAuth2Config
from maildesk.errors import ConfigError
from maildesk.transport.oauth2.grants import Grant, GrantRefused, Unreachable

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def grant(config: OAuth2Config, refresh_token: str) -> Grant:
    """A refresh-token grant (delegated), or client credentials (app)."""
    if config.flow == "delegated":
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    else:
        form = {"grant_type": "client_credentials"}
    return _grant(post(config, config.token_url, _with_client(config, form)))


def device_login(
    config: OAuth2Config, show: Callable[[str], None], wait: Callable[[float], None]
) -> Grant:
    """RFC 8628: show where to go and the code, then ask until the user has approved."""
    if not config.device_url:
        raise ConfigError(f"{config.key}.device_url: required for `{config.login_command}`")
    started = post(config, config.device_url, _with_client(config, {}))
    if not isinstance(started.get("device_code"), str):
        raise Unreachable(f"{config.device_url}: the answer holds no device_code")
    show(
        started.get("message")
        or f"Open {started.get('verification_uri')} and enter the code {started.get('user_code')}"
    )
    interval = float(started.get("interval", 5))
    form = _with_client(
        config, {"grant_type": DEVICE_GRANT, "device_code": started["device_code"]}
    )
    while True:
        try:
            return _grant(post(config, config.token_url, form))
        except GrantRefused as exc:
            if exc.error == "slow_down":
                interval += 5
            elif exc.error != "authorization_pending":
                raise
        wait(interval)


def post(config: OAuth2Config, url: str, form: dict[str, str]) -> dict[str, Any]:
    """POST a form, return the JSON answer; an OAuth2 error answer raises GrantRefused."""
    request = urllib.request.Request(  # noqa: S310 - the URL is checked at load: https or loopback
        url,
        data=urlencode(form).encode(),
        headers={"Accept": "application/json"},
    )
    context = (
        ssl.create_default_context(cafile=config.ca_file) if url.startswith("https") else None
    )
    try:
        with urllib.request.urlopen(request, timeout=config.timeout, context=context) as answer:  # noqa: S310
            return _json(answer.read())
    except urllib.error.HTTPError as exc:
        body = _json(exc.read(), exc.code)
        if exc.code < 500 and isinstance(body.get("error"), str):
            raise GrantRefused(body["error"], str(body.get("error_description", ""))) from exc
        raise Unreachable(f"{url}: HTTP {exc.code}") from exc
    except (OSError, ValueError) as exc:  # URLError, timeouts and TLS errors are OSErrors
        raise Unreachable(f"{url}: {exc}") from exc


def _with_client(config: OAuth2Config, form: dict[str, str]) -> dict[str, str]:
    form = {**form, "client_id": config.client_id}
    secret = config.client_secret.value()
    if secret:
        form["client_secret"] = secret
    if config.scope:
        form["scope"] = config.scope
    return form


def _json(raw: bytes, status: int = 200) -> dict[str, Any]:
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise Unreachable(f"HTTP {status}: the answer is not JSON") from exc
    if not isinstance(data, dict):
        raise Unreachable(f"HTTP {status}: the answer is not a JSON object")
    return data


def _grant(answer: dict[str, Any]) -> Grant:
    token = answer.get("access_token")
    if not isinstance(token, str):
        raise Unreachable("the answer holds no access_token")
    return Grant(token, float(answer.get("expires_in", 3600)), answer.get("refresh_token") or "")
