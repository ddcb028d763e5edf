"""Gmail / Google Workspace tokens through google-auth (the `google` extra).

flow "app": a service account with domain-wide delegation acting for the
mailbox (its `subject`); the token URL is the key file's own. flow
"delegated": an installed app's refresh token (Google's device flow does not
allow the Gmail scope, so `maildesk oauth login` cannot get one: login.py).
"""

from datetime import UTC, datetime

import google.auth.exceptions
import google.auth.transport.requests
from google.oauth2 import credentials, service_account

from maildesk.config.oauth2 import OAuth2Config
from maildesk.transport.oauth2 import http
from maildesk.transport.oauth2.grants import Grant, GrantRefused, Unreachable

Credentials = credentials.Credentials | service_account.Credentials


def grant(config: OAuth2Config, user: str, refresh_token: str) -> Grant:
    found: Credentials
    if config.flow == "app":
        found = service_account.Credentials.from_service_account_file(
            str(config.service_account_file), scopes=config.scope.split(), subject=user
        )
    else:
        found = credentials.Credentials(
            None,
            refresh_token=refresh_token,
            token_uri=config.token_url,
            client_id=config.client_id,
            client_secret=config.client_secret.value() or None,
            scopes=config.scope.split(),
        )
    session = http.session(config)
    try:
        found.refresh(google.auth.transport.requests.Request(session))
    except google.auth.exceptions.RefreshError as exc:
        raise GrantRefused(str(exc.args[0]) if exc.args else "refused") from exc
    except google.auth.exceptions.TransportError as exc:
        raise Unreachable(str(exc)) from exc
    finally:
        session.close()
    expiry = found.expiry.replace(tzinfo=UTC) if found.expiry else datetime.now(UTC)
    life = (expiry - datetime.now(UTC)).total_seconds()
    rotated = getattr(found, "refresh_token", None) or ""
    return Grant(found.token or "", life, rotated if rotated != refresh_token else "")
