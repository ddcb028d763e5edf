"""Access tokens per mailbox: cached with their expiry, refreshed before they run out,
and one clear error when a refresh fails.

One TokenSource per (oauth2 table, user) serves the process: the poll, the IDLE
watcher and the outbox of a mailbox share its token. Time comes from the
caller (`now`), so tests run tokens of a few seconds on their own clock.

A refused refresh (a revoked refresh token, a wrong secret) is remembered: for
REFUSED_HOLD the same error is raised again without asking the provider, so
the daemon's retries do not hammer it, unless the token file changed (a new
`maildesk oauth login` is used at once). An endpoint that does not answer is a
TemporaryFailure, left to the callers' own backoff.
"""

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from maildesk.config.oauth2 import OAuth2Config
from maildesk.errors import ConfigError, LoginRefused, TemporaryFailure
from maildesk.transport.oauth2 import generic, token_file
from maildesk.transport.oauth2.grants import Grant, GrantRefused, Unreachable

REFUSED_HOLD = timedelta(minutes=15)
# A token is renewed this long before its end, or a quarter of its life before when
# that is shorter (tokens of a few seconds, as in the tests).
EARLY = timedelta(seconds=60)


@dataclass(frozen=True)
class Bearer:
    """A token to sign in with; `fresh` when just fetched, so a refusal is not its age."""

    value: str
    fresh: bool


@dataclass(frozen=True)
class _Refusal:
    error: ConfigError
    at: datetime
    stamp: int | None


def who(config: OAuth2Config) -> str:
    return "smtp" if config.key.startswith("smtp.") else f"mailbox {config.owner!r}"


class TokenSource:
    def __init__(self, config: OAuth2Config, user: str) -> None:
        self.config, self.user = config, user
        self._lock = threading.Lock()
        self._token: tuple[str, datetime] | None = None  # value, when to refresh
        self._refusal: _Refusal | None = None

    def bearer(self, now: datetime) -> Bearer:
        """The cached token while it is good, else a new one from the provider."""
        with self._lock:
            if self._token is not None and now < self._token[1]:
                return Bearer(self._token[0], fresh=False)
            refusal = self._refusal
            stamp = token_file.stamp(self.config.token_file)
            if refusal is not None and now < refusal.at + REFUSED_HOLD and stamp == refusal.stamp:
                raise refusal.error
            try:
                grant = self._fetch()
            except GrantRefused as exc:
                self._refusal = _Refusal(refused(self.config, exc), now, stamp)
                raise self._refusal.error from exc
            except Unreachable as exc:
                raise TemporaryFailure(
                    f"{who(self.config)}: OAuth2 token endpoint unreachable: {exc}"
                ) from exc
            self._refusal = None
            life = timedelta(seconds=max(grant.expires_in, 0))
            self._token = (grant.access_token, now + life - min(EARLY, life / 4))
            return Bearer(grant.access_token, fresh=True)

    def forget(self, bearer: Bearer) -> None:
        """The server refused `bearer` before its time: the next sign-in gets a new one."""
        with self._lock:
            if self._token is not None and self._token[0] == bearer.value:
                self._token = None

    def _fetch(self) -> Grant:
        config = self.config
        refresh_token = _refresh_token(config) if config.flow == "delegated" else ""
        grant = _provider_grant(config, self.user, refresh_token)
        if grant.refresh_token and config.token_file is not None:
            token_file.write(config.token_file, grant.refresh_token, f"{config.key}.token_file")
        return grant


def _provider_grant(config: OAuth2Config, user: str, refresh_token: str) -> Grant:
    """Ask the configured provider; its library is imported only when it is used."""
    if config.provider == "microsoft":
        from maildesk.transport.oauth2 import microsoft

        return microsoft.grant(config, refresh_token)
    if config.provider == "google":
        from maildesk.transport.oauth2 import google

        return google.grant(config, user, refresh_token)
    return generic.grant(config, refresh_token)


def _refresh_token(config: OAuth2Config) -> str:
    """The token file's (the newest), else the one given by env or file."""
    found = ""
    if config.token_file is not None:
        found = token_file.read(config.token_file, f"{config.key}.token_file")
    found = found or config.refresh_token.value(required=False)
    if not found:
        raise ConfigError(
            f"{who(config)}: no OAuth2 refresh token yet; run `{config.login_command}`"
        )
    return found


def refused(config: OAuth2Config, exc: GrantRefused) -> ConfigError:
    """The one message of a refused token request: whose, why, and what to do."""
    if config.flow == "delegated":
        fix = f"run `{config.login_command}` to sign in again"
    else:
        fix = f"check {config.key}.client_id and its secret, certificate or key file"
    return ConfigError(f"{who(config)}: OAuth2 token refused by {config.provider} ({exc}); {fix}")


def refused_login(config: OAuth2Config, service: str, user: str, reason: str) -> LoginRefused:
    """The server refused a token just issued: the grant lacks a permission (LoginRefused:
    asked again slowly, as a refused password is)."""
    hint = {
        "microsoft": "the app needs IMAP.AccessAsApp / SMTP.SendAsApp and access to the mailbox",
        "google": "the service account needs domain-wide delegation for https://mail.google.com/",
    }.get(config.provider, f"check {config.key}.scope")
    return LoginRefused(
        f"{who(config)}: {service} refused the new OAuth2 token of {user!r} ({reason}); {hint}"
    )


_SOURCES: dict[tuple[OAuth2Config, str], TokenSource] = {}
_SOURCES_LOCK = threading.Lock()


def source(config: OAuth2Config, user: str) -> TokenSource:
    """The process's one TokenSource for this table and user."""
    with _SOURCES_LOCK:
        return _SOURCES.setdefault((config, user), TokenSource(config, user))
