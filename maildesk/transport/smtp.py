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
from maildesk.errors import MaildeskError
from maildesk.transport import tls
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
        that does not verify.

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
        config = self.config
        login = config.username if config.oauth2 is None else ""  # a token signs in after
        client = _Client(
            hostname=config.host,
            port=config.port,
            use_tls=config.security == "ssl",
            start_tls=config.security == "starttls",  # never None: that is "STARTTLS if offered"
            tls_context=None if config.security == "none" else tls.context(config.trust),
            username=login or None,
            password=config.password.value() if login else None,
            timeout=config.timeout,
        )
        try:
            await client.connect()
            if config.oauth2 is not None:
                await _sign_in(client, config, config.oauth2, self.clock())
        except (aiosmtplib.SMTPException, OSError) as exc:
            client.close()
            tls.raise_if_refused(exc, "SMTP", config.host, config.port, config.trust)
            raise
        except MaildeskError:  # a token refused, or none to be had
            client.close()
            raise
        self._client = client
        return client


async def _sign_in(
    client: aiosmtplib.SMTP, config: SmtpConfig, settings: OAuth2Config, now: datetime
) -> None:
    """AUTH XOAUTH2 with the mailbox's token. A cached token the server refuses before
    its time is forgotten and a new one tried once; a new token refused is a ConfigError
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
