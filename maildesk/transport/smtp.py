"""One SMTP connection for many mails (aiosmtplib): what a drain sends its batch over.

Each connection costs the greeting, EHLO and, on a real server, TLS and AUTH:
a drain opens one, when its first mail is due, and sends mail after mail over
it. A failed transaction is reset (RSET, as aiosmtplib does) and the next mail
goes on the same connection. When the connection breaks (a disconnect, a
timeout, a 421), the next mail opens a new one.

Which failures are the mail's: on a new connection, every one, as when each
mail had its own. On a connection that already carried mail, a break before
DATA is the connection's (an idle timeout, a server's limit of mails per
connection): nothing can have been delivered, so the mail is tried once more
on a new connection. A break once DATA began is the mail's: the server may
have taken it without our hearing so, and only the retry after the backoff
may risk a second copy, as it always did.
"""

import logging
from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import Literal

import aiosmtplib
from aiosmtplib.typing import Default

from maildesk.app import utc_now
from maildesk.config import SmtpConfig
from maildesk.config.oauth2 import OAuth2Config
from maildesk.errors import ConfigError, TemporaryFailure
from maildesk.transport import refusal, tls
from maildesk.transport.oauth2 import tokens

log = logging.getLogger(__name__)


class SendError(Exception):
    """One mail not sent: the reason to record, and whether a retry cannot help (5xx)."""

    def __init__(self, reason: str, permanent: bool) -> None:
        super().__init__(reason)
        self.reason, self.permanent = reason, permanent


class _Client(aiosmtplib.SMTP):
    """aiosmtplib's client, noting whether the current mail reached DATA."""

    data_began = False

    async def data(
        self,
        message: str | bytes,
        /,
        *,
        timeout: float | Literal[Default.token] | None = Default.token,
    ) -> aiosmtplib.SMTPResponse:
        self.data_began = True
        return await super().data(message, timeout=timeout)


class Connection:
    """Lazily opened, reopened after a break, closed with QUIT at the end of `async with`."""

    def __init__(self, config: SmtpConfig, clock: Callable[[], datetime] = utc_now) -> None:
        self.config = config
        self.clock = clock  # the OAuth2 tokens' expiry is judged on it
        self._client: _Client | None = None
        self._data_began = False  # by the last transaction

    async def __aenter__(self) -> "Connection":
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        client, self._client = self._client, None
        if client is not None and client.is_connected:
            try:
                await client.quit()
            except (aiosmtplib.SMTPException, OSError):
                client.close()

    async def send(self, sender: str, recipients: list[str], raw: bytes) -> None:
        """Hand one mail to the server; raises SendError, or ConfigError for a certificate
        that does not verify or a login refused (LoginRefused).

        An internationalised address needs SMTPUTF8 (a server without it refuses the mail).
        """
        reused = self._client is not None and self._client.is_connected
        try:
            await self._transaction(sender, recipients, raw)
        except (aiosmtplib.SMTPException, OSError) as exc:
            if not (reused and _breaks_connection(exc) and not self._data_began):
                raise _failure(exc) from exc
            log.info("SMTP connection broke between mails (%s); reconnecting", exc)
            try:
                await self._transaction(sender, recipients, raw)
            except (aiosmtplib.SMTPException, OSError) as again:
                raise _failure(again) from again

    async def _transaction(self, sender: str, recipients: list[str], raw: bytes) -> None:
        client = await self._connected()
        client.data_began = False
        ascii_only = sender.isascii() and all(r.isascii() for r in recipients)
        try:
            await client.sendmail(
                sender, recipients, raw, mail_options=None if ascii_only else ["SMTPUTF8"]
            )
        finally:
            self._data_began = client.data_began
            if not client.is_connected:  # aiosmtplib closed it: a break, or a 421
                self._client = None

    async def _connected(self) -> _Client:
        """The open connection, or a new one (TLS and AUTH as configured)."""
        if self._client is not None and self._client.is_connected:
            return self._client
        client = await self._connect()
        try:
            await login(client, self.config, self.clock())
        except BaseException:
            client.close()
            raise
        self._client = client
        return client

    async def _connect(self) -> _Client:
        """A new connection, TLS verified (tls.py), not logged in."""
        config = self.config
        client = _Client(
            hostname=config.host,
            port=config.port,
            use_tls=config.security == "ssl",
            start_tls=config.security == "starttls",  # never None: that is "STARTTLS if offered"
            tls_context=None if config.security == "none" else tls.context(config.trust),
            timeout=config.timeout,
        )
        try:
            await client.connect()
        except (aiosmtplib.SMTPException, OSError) as exc:
            client.close()
            tls.raise_if_refused(exc, "SMTP", config.host, config.port, config.trust)
            raise
        return client

    # What `doctor` does step by step; the drain only calls `send`.

    async def open(self) -> None:
        """Connect (TLS verified) without logging in: TemporaryFailure when unreachable."""
        try:
            self._client = await self._connect()
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise TemporaryFailure(
                f"SMTP {self.config.host}:{self.config.port} unreachable: {exc}"
            ) from exc

    async def log_in(self) -> None:
        """Log in on the connection `open` made (login() below)."""
        if self._client is None or not self._client.is_connected:
            raise TemporaryFailure("SMTP connection is closed")
        try:
            await login(self._client, self.config, self.clock())
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise TemporaryFailure(f"SMTP {self.config.host}: {exc}") from exc

    def tls_version(self) -> str | None:
        """The TLS version of the open connection (`TLSv1.3`), None in plain text."""
        if self._client is None or self._client.transport is None:
            return None
        found = self._client.transport.get_extra_info("ssl_object")
        return found.version() if found is not None else None


async def login(client: aiosmtplib.SMTP, config: SmtpConfig, now: datetime) -> None:
    """Log in as `config` says: the one place that knows how (a password, or XOAUTH2 with
    a token good at `now`; nothing when there is no username). A 5xx refusal is
    LoginRefused, naming the account and the fix; a 4xx (try later) stays the server's
    trouble."""
    if not config.username:
        return
    if config.oauth2 is not None:
        await _sign_in(client, config, config.oauth2, now)
        return
    password = config.password.value()
    if client.last_ehlo_response is None:
        await client.ehlo()  # what the server offers (aiosmtplib's login would, too)
    if not client.supports_extension("auth"):
        raise ConfigError(
            f"SMTP {config.host}:{config.port} offers no login (no AUTH): leave"
            f" {config.trust.key('username')} empty for a server that needs none"
        )
    try:
        await client.login(config.username, password)
    except aiosmtplib.SMTPAuthenticationError as exc:
        if exc.code < 500:
            raise
        raise refusal.login_refused("SMTP", config, f"{exc.code} {exc.message}") from exc


async def _sign_in(
    client: aiosmtplib.SMTP, config: SmtpConfig, settings: OAuth2Config, now: datetime
) -> None:
    """AUTH XOAUTH2 with the mailbox's token. A cached token the server refuses before
    its time is forgotten and a new one tried once; a new token refused is LoginRefused
    naming the fix."""
    source = tokens.source(settings, config.username)
    bearer = source.bearer(now)
    while True:
        try:
            await client.auth_xoauth2(config.username, bearer.value)
            return
        except aiosmtplib.SMTPAuthenticationError as exc:
            if bearer.fresh:
                raise tokens.refused_login(settings, "SMTP", config.username, str(exc)) from exc
            source.forget(bearer)
            bearer = source.bearer(now)


def _breaks_connection(exc: Exception) -> bool:
    """A disconnect, a timeout or a 421 (the server is closing): the connection is gone."""
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return exc.code == 421
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return any(r.code == 421 for r in exc.recipients)
    return isinstance(exc, OSError)  # SMTPServerDisconnected and SMTPTimeoutError are too


def _failure(exc: Exception) -> SendError:
    return SendError(f"{type(exc).__name__}: {exc}", _is_permanent(exc))


def _is_permanent(exc: Exception) -> bool:
    """A 5xx answer will not change on retry (unknown recipient, policy refusal)."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return all(r.code >= 500 for r in exc.recipients)
    return isinstance(exc, aiosmtplib.SMTPResponseException) and exc.code >= 500
