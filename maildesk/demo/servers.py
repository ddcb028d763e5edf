"""The demo's servers on loopback: pymap for IMAP, an aiosmtpd handler that keeps
what the daemon sends, a free port. The tests and benches start theirs the same way.
"""

import email
import imaplib
import socket
import subprocess
import sys
import time
from email import policy
from email.message import EmailMessage

from maildesk.errors import MaildeskError


def start_pymap(port: int, user: str, password: str) -> subprocess.Popen:
    """pymap's in-memory IMAP server with one user, ready on 127.0.0.1:`port`."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from pymap.main import main; sys.exit(main())",
            "--no-tls",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "dict",
            "--demo-user",
            user,
            "--demo-password",
            password,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wait_port(port, proc)
    return proc


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(port: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise MaildeskError("the embedded IMAP server exited early")
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise MaildeskError(f"the embedded IMAP server did not open port {port}")


class Deliveries:
    """One IMAP connection, logged in once, that puts mail into `user`'s INBOX as an MTA
    would (imaplib: imap-tools is the inbox's own). pymap's login is a slow hash."""

    def __init__(self, port: int, user: str, password: str) -> None:
        self.user = user
        self._client = imaplib.IMAP4("127.0.0.1", port)
        self._client.login(user, password)

    def append(self, mail: EmailMessage) -> None:
        moment = imaplib.Time2Internaldate(time.time())
        status, data = self._client.append("INBOX", "", moment, mail.as_bytes())
        if status != "OK":
            raise MaildeskError(f"the embedded IMAP server refused a mail: {data}")

    def close(self) -> None:
        self._client.logout()


class SmtpCapture:
    """aiosmtpd handler keeping what the daemon sends."""

    def __init__(self) -> None:
        self.mails: list[EmailMessage] = []

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd hook
        self.mails.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"
