"""The support mailbox over IMAP (imap-tools): list by UID, fetch raw bytes, move, IDLE.

Library and socket errors are translated into TemporaryFailure here, so the
rest of maildesk sees one kind of "server trouble". Client pitfalls met on
real servers are handled in this module only (shared/real-servers.md):
capabilities re-read after login, stale FETCH responses dropped before each
fetch, answers paired with mails by the UID inside them.
"""

import functools
import imaplib
import re
import socket
import ssl
from collections.abc import Callable
from datetime import datetime
from email.utils import parseaddr
from types import TracebackType
from typing import Any, TypeVar

from imap_tools import (
    BaseMailBox,
    MailBox,
    MailboxFolderCreateError,
    MailboxFolderSelectError,
    MailboxLoginError,
    MailBoxStartTls,
    MailBoxUnencrypted,
)
from imap_tools.errors import UnexpectedCommandStatusError

from maildesk.app import utc_now
from maildesk.config import ImapConfig
from maildesk.errors import ConfigError, TemporaryFailure
from maildesk.transport import idle, refusal, tls
from maildesk.transport.oauth2 import sasl, tokens

SERVER_ERRORS = (
    imaplib.IMAP4.error,
    OSError,
    socket.timeout,
    ssl.SSLError,
    UnexpectedCommandStatusError,
)
_UID = re.compile(rb"UID (\d+)")
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")
_T = TypeVar("_T")


class Inbox:
    """One logged-in connection to the configured folder; use as a context manager."""

    def __init__(self, config: ImapConfig, clock: Callable[[], datetime] = utc_now) -> None:
        self.config = config
        self.clock = clock  # the OAuth2 tokens' expiry is judged on it
        self.box: BaseMailBox | None = None

    @property
    def key(self) -> str:
        """Names this mailbox in the cursor and receipt tables."""
        c = self.config
        return f"{c.username}@{c.host}:{c.port}/{c.folder}"

    def __enter__(self) -> "Inbox":
        self.connect()
        return self

    def __exit__(
        self, exc_type: type | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def connect(self) -> None:
        """Open, log in, make the done folders that are missing, select the folder."""
        self.open()
        try:
            self.login()
            self.create_folders()
            self.select()
        except BaseException:
            self.close()
            raise

    def open(self) -> None:
        """Connect, and for TLS verify the server (tls.py); not logged in yet."""
        c = self.config
        try:
            self.box = _open(c)
        except SERVER_ERRORS as exc:
            tls.raise_if_refused(exc, "IMAP", c.host, c.port, c.trust)
            raise TemporaryFailure(f"IMAP {c.host}:{c.port} unreachable: {exc}") from exc

    def login(self) -> None:
        """Log in as configured (login() below), then learn what the server offers."""
        box = self._open_box()
        try:
            login(box, self.config, self.clock())
        except SERVER_ERRORS as exc:
            raise TemporaryFailure(f"IMAP {self.config.host}: {exc}") from exc
        self._call(_refresh_capabilities)

    def missing_folders(self, done_only: bool = False) -> list[str]:
        """The watched folder (unless `done_only`) and the done folders that do not exist."""
        c = self.config
        named = (
            (c.processed_folder, c.quarantine_folder)
            if done_only
            else (c.folder, c.processed_folder, c.quarantine_folder)
        )
        wanted = [f for f in named if f]
        return self._call(lambda b: [f for f in wanted if not b.folder.exists(f)])

    def create_folders(self) -> list[str]:
        """Create the done folders (processed, quarantine) that are missing; their names."""
        missing = self.missing_folders(done_only=True)
        for folder in missing:
            self._call(functools.partial(_create_folder, folder=folder))
        return missing

    def select(self) -> None:
        try:
            self._call(lambda b: b.folder.set(self.config.folder))
        except TemporaryFailure as exc:
            if isinstance(exc.__cause__, MailboxFolderSelectError):
                key = f"{self.config.trust.section}.folder"
                raise ConfigError(f"{key}: cannot select {self.config.folder!r}") from exc
            raise

    def tls_version(self) -> str | None:
        """The TLS version of the connection (`TLSv1.3`), None in plain text."""
        sock = self._open_box().client.sock
        return sock.version() if isinstance(sock, ssl.SSLSocket) else None

    def close(self) -> None:
        if self.box is None:
            return
        try:
            self.box.logout()
        except SERVER_ERRORS:
            self.box.client.shutdown()
        self.box = None

    def _open_box(self) -> BaseMailBox:
        if self.box is None:
            raise TemporaryFailure("IMAP connection is closed")
        return self.box

    def uidvalidity(self) -> int:
        return int(
            self._call(lambda b: b.folder.status(self.config.folder, ["UIDVALIDITY"]))[
                "UIDVALIDITY"
            ]
        )

    def uids(self, after: int = 0) -> list[int]:
        """UIDs in the folder, ascending; only those above `after` when given."""
        criteria = f"UID {after + 1}:*" if after else "ALL"
        found = self._call(lambda b: b.uids(criteria))
        return sorted(u for u in map(int, found) if u > after)

    def fetch(self, uid: int) -> bytes | None:
        """The raw bytes of one message (not marking it seen); None if it vanished."""
        return self.fetch_many([uid]).get(uid)

    def fetch_many(self, uids: list[int]) -> dict[int, bytes]:
        """Raw bytes of several messages in one command, by UID; vanished ones are absent.

        Each answer is paired with the UID inside it, never by position, so
        unsolicited FETCH responses (flags changed by another client) cannot
        pair a UID with the wrong mail.
        """
        if not uids:
            return {}
        answers = self._uid_fetch(uids, "(UID BODY.PEEK[])")
        wanted = set(uids)
        return {
            int(m[1]): item[1]
            for item in answers
            if isinstance(item, tuple) and (m := _UID.search(item[0])) and int(m[1]) in wanted
        }

    def outline(self, uids: list[int]) -> dict[int, tuple[int, str]]:
        """(RFC822.SIZE, the From address lower-cased) of each message, by UID: rounds are
        cut by bytes, and a flooding sender's mail put apart, before fetching."""
        found = {}
        for item in self._uid_fetch(uids, "(UID RFC822.SIZE BODY.PEEK[HEADER.FIELDS (FROM)])"):
            line, field = item if isinstance(item, tuple) else (item or b"", b"")
            if uid := _UID.search(line):
                size, sender = _SIZE.search(line), field.partition(b":")[2].decode("latin-1")
                found[int(uid[1])] = (int(size[1]) if size else 0, parseaddr(sender)[1].lower())
        return found

    def _uid_fetch(self, uids: list[int], items: str) -> list[Any]:
        def do(box: BaseMailBox) -> list[Any]:
            box.client.untagged_responses.pop("FETCH", None)
            status, data = box.client.uid("FETCH", ",".join(map(str, uids)), items)
            if status != "OK":
                raise imaplib.IMAP4.error(f"FETCH {items} failed: {data!r}")
            return data

        return self._call(do)

    def mark_done(self, uids: list[int], folder: str) -> None:
        """Move to `folder` in one command; with no folder configured, flag them seen instead."""
        uid_set = ",".join(map(str, uids))
        if folder:
            self._call(lambda b: b.move(uid_set, folder))
        else:
            self._call(lambda b: b.flag(uid_set, ("\\Seen",), True))

    def supports_idle(self) -> bool:
        return self._call(lambda b: "IDLE" in b.client.capabilities)

    def wait_for_news(self, timeout: float) -> bool:
        """IDLE up to `timeout` seconds; True when the server said anything (see idle.py)."""
        return self._call(lambda b: idle.wait(b.client, timeout))

    def _call(self, action: Callable[[BaseMailBox], _T]) -> _T:
        box = self._open_box()
        try:
            return action(box)
        except SERVER_ERRORS as exc:
            raise TemporaryFailure(f"IMAP {self.config.host}: {exc}") from exc


def login(box: BaseMailBox, c: ImapConfig, now: datetime) -> None:
    """Log in as `c` says: the one place that knows how (LOGIN with a password read when
    needed, or AUTHENTICATE with an OAuth2 token good at `now`).

    A refusal is LoginRefused, naming the account and the fix; a server that
    says it cannot check now ([UNAVAILABLE]) is server trouble, tried again soon.
    A cached token the server refuses before its time is forgotten and a new
    one tried once; a new token refused is LoginRefused naming the permission.
    """
    if c.oauth2 is not None:
        settings, source = c.oauth2, tokens.source(c.oauth2, c.username)
        bearer = source.bearer(now)
        while (refused := _authenticate(box, c, settings.mechanism, bearer.value)) is not None:
            if bearer.fresh:
                raise tokens.refused_login(settings, "IMAP", c.username, refused)
            source.forget(bearer)
            bearer = source.bearer(now)
        return
    try:
        box.login(c.username, c.password.value(), initial_folder=None)
    except MailboxLoginError as exc:
        answer = _answer(exc.command_result)
        if "[UNAVAILABLE]" in answer.upper():
            raise TemporaryFailure(f"IMAP {c.host}: login not possible now: {answer}") from exc
        raise refusal.login_refused("IMAP", c, answer) from exc


def _answer(command_result: tuple[Any, Any]) -> str:
    """The server's text of a tagged answer, as imaplib hands it back."""
    data = command_result[1] if len(command_result) > 1 else []
    parts = data if isinstance(data, list) else [data]
    return " ".join(
        p.decode("utf-8", "replace") if isinstance(p, bytes) else str(p) for p in parts if p
    )


def _open(c: ImapConfig) -> BaseMailBox:
    """Connect, and for TLS verify the server's certificate and name (tls.py)."""
    if c.security == "none":
        return MailBoxUnencrypted(c.host, c.port, timeout=c.timeout)
    secure = MailBox if c.security == "ssl" else MailBoxStartTls
    return secure(c.host, c.port, timeout=c.timeout, ssl_context=tls.context(c.trust))


def _authenticate(box: BaseMailBox, c: ImapConfig, mechanism: str, token: str) -> str | None:
    """AUTHENTICATE XOAUTH2 or OAUTHBEARER; None when in, else the server's refusal."""
    answer = sasl.responder(mechanism, c.username, token, c.host, c.port)
    try:
        box.client.authenticate(mechanism.upper(), answer)
    except imaplib.IMAP4.abort:
        raise
    except imaplib.IMAP4.error as exc:
        return str(exc)
    return None


def _create_folder(box: BaseMailBox, folder: str) -> None:
    """Another connection (the IDLE watcher, a second worker) may create it just before us."""
    try:
        box.folder.create(folder)
    except MailboxFolderCreateError:
        if not box.folder.exists(folder):
            raise


def _refresh_capabilities(box: BaseMailBox) -> None:
    """imaplib keeps the pre-login list, which hides MOVE and IDLE on many servers."""
    status, data = box.client.capability()
    if status == "OK" and data and data[0]:
        box.client.capabilities = tuple(data[0].decode().upper().split())
