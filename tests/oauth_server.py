"""A small OAuth2 authorization server on loopback, for the real OAuth2 tests.

It issues short-lived access tokens on the test's clock and answers the
requests our providers make: the token endpoint (grants refresh_token,
client_credentials, the JWT bearer grant of Google's service accounts, the
device code grant), device authorization (RFC 8628), OpenID discovery (what
msal reads first) and token introspection (RFC 7662), which Dovecot's oauth2
passdb and the aiosmtpd XOAUTH2 handler ask. Plain HTTP, or HTTPS when given
a certificate (msal accepts only https authorities).
"""

import json
import secrets
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import jwt

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
DEVICE_CODE = "urn:ietf:params:oauth:grant-type:device_code"
GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token"


@dataclass
class Client:
    """A registered client: its secret, and the mailbox its app-only tokens may open."""

    secret: str
    user: str = ""
    public_key: str = ""  # PEM: a service account's, for the JWT bearer grant


@dataclass
class AuthServer:
    clock: Callable[[], datetime]
    token_seconds: int = 5
    clients: dict[str, Client] = field(default_factory=dict)
    refresh_tokens: dict[str, str] = field(default_factory=dict)  # token -> user
    access_tokens: dict[str, tuple[str, datetime]] = field(default_factory=dict)
    device_user: str = ""  # who approves every device code at once ("" : nobody yet)
    device_codes: dict[str, str] = field(default_factory=dict)  # device code -> client
    token_requests: list[dict[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def register(self, client_id: str, secret: str, user: str = "", public_key: str = "") -> None:
        self.clients[client_id] = Client(secret, user, public_key)

    def refresh_token_for(self, user: str) -> str:
        token = "rt-" + secrets.token_urlsafe(12)
        self.refresh_tokens[token] = user
        return token

    def introspect(self, token: str) -> dict[str, Any]:
        """RFC 7662: active while the token's life lasts on the clock."""
        with self.lock:
            found = self.access_tokens.get(token)
        if found is None or found[1] <= self.clock():
            return {"active": False}
        return {"active": True, "username": found[0], "exp": int(found[1].timestamp())}

    def token(self, form: dict[str, str], base: str) -> tuple[int, dict[str, Any]]:
        with self.lock:
            self.token_requests.append(form)
        grant = form.get("grant_type", "")
        if grant == JWT_BEARER:
            return self._jwt_bearer(form.get("assertion", ""))
        client = self.clients.get(form.get("client_id", ""))
        if client is None or client.secret != form.get("client_secret", client.secret):
            return 401, {"error": "invalid_client", "error_description": "unknown client"}
        if grant == "client_credentials":
            return self._issue(client.user, refresh=False)
        if grant == "refresh_token":
            user = self.refresh_tokens.get(form.get("refresh_token", ""))
            if user is None:
                return 400, {"error": "invalid_grant", "error_description": "token revoked"}
            return self._issue(user)
        if grant == DEVICE_CODE:
            if form.get("device_code") not in self.device_codes:
                return 400, {"error": "expired_token"}
            if not self.device_user:
                return 400, {"error": "authorization_pending"}
            return self._issue(self.device_user)
        return 400, {"error": "unsupported_grant_type"}

    def device(self, form: dict[str, str], base: str) -> tuple[int, dict[str, Any]]:
        code = secrets.token_urlsafe(8)
        self.device_codes[code] = form.get("client_id", "")
        return 200, {
            "device_code": code,
            "user_code": "WDJB-MJHT",
            "verification_uri": f"{base}/activate",
            "expires_in": 600,
            "interval": 1,
            "message": f"To sign in, open {base}/activate and enter WDJB-MJHT.",
        }

    def discovery(self, tenant: str, base: str) -> dict[str, Any]:
        return {
            "issuer": f"{base}/{tenant}/v2.0",
            "token_endpoint": f"{base}/token",
            "authorization_endpoint": f"{base}/authorize",
            "device_authorization_endpoint": f"{base}/device",
        }

    def _jwt_bearer(self, assertion: str) -> tuple[int, dict[str, Any]]:
        """A service account's signed request for a token acting as `sub` (Google's grant;
        google-auth addresses it to Google's token URL whatever the key file says)."""
        try:
            issuer = jwt.decode(assertion, options={"verify_signature": False})["iss"]
            key = self.clients[issuer].public_key
            claims = jwt.decode(assertion, key, algorithms=["RS256"], audience=GOOGLE_TOKEN_URL)
        except (KeyError, jwt.PyJWTError) as exc:
            return 400, {"error": "invalid_grant", "error_description": str(exc)}
        return self._issue(claims["sub"], refresh=False)

    def _issue(self, user: str, refresh: bool = True) -> tuple[int, dict[str, Any]]:
        access = "at-" + secrets.token_urlsafe(12)
        with self.lock:
            expires = self.clock() + timedelta(seconds=self.token_seconds)
            self.access_tokens[access] = (user, expires)
        answer = {"access_token": access, "token_type": "Bearer", "expires_in": self.token_seconds}
        if refresh:  # a new refresh token each time; the old one stays valid (as Microsoft's)
            answer["refresh_token"] = self.refresh_token_for(user)
        return 200, answer


class _Handler(BaseHTTPRequestHandler):
    server: "_Http"

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length", 0))
        body = self.rfile.read(length).decode()
        form = {k: v[0] for k, v in parse_qs(body).items()}
        auth = self.server.auth
        if self.path == "/token":
            self._answer(*auth.token(form, self.server.base))
        elif self.path == "/device":
            self._answer(*auth.device(form, self.server.base))
        elif self.path == "/introspect":
            self._answer(200, auth.introspect(form.get("token", "")))
        else:
            self._answer(404, {"error": "not_found"})

    def do_GET(self) -> None:  # noqa: N802
        tenant, _, rest = self.path.strip("/").partition("/")
        if rest == "v2.0/.well-known/openid-configuration":
            self._answer(200, self.server.auth.discovery(tenant, self.server.base))
        else:
            self._answer(404, {"error": "not_found"})

    def _answer(self, status: int, data: dict[str, Any]) -> None:
        body = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Quiet: the tests read what they need from AuthServer."""


class _Http(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, auth: AuthServer) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.auth = auth
        self.base = ""


def serve(auth: AuthServer, cert_pem: Path | None = None) -> tuple[str, Callable[[], None]]:
    """Start serving `auth` on loopback; returns its base URL and a function that stops it."""
    http = _Http(auth)
    scheme = "http"
    if cert_pem is not None:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert_pem)
        http.socket = context.wrap_socket(http.socket, server_side=True)
        scheme = "https"
    http.base = f"{scheme}://127.0.0.1:{http.server_address[1]}"
    thread = threading.Thread(target=http.serve_forever, name="oauth-server", daemon=True)
    thread.start()

    def stop() -> None:
        http.shutdown()
        http.server_close()
        thread.join()

    return http.base, stop
