"""Logins as operators meet them: a refused login names the account and the fix (for
Microsoft's "basic authentication is disabled": auth = "oauth2"), keeps the mail where
it is and counts no attempt; client certificates are sent to servers that ask."""

import asyncio
import socket
import ssl
import threading
from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy import select

from maildesk.config import Secret, SmtpConfig, Trust
from maildesk.errors import ConfigError, LoginRefused
from maildesk.intake import pipeline, poller
from maildesk.store import db
from maildesk.store.tables import OutboxMail, OutboxStatus
from maildesk.transport import outbox, refusal
from maildesk.transport.inbox import Inbox
from tests.conftest import PASSWORD, ImapServer, Mailbox, SmtpSink, free_port, make_mail
from tests.tls_servers import imap_toml

ONE_DATABASE = "a login is settled before any database work"


def sqlite_only(test):
    """On SQLite alone: the login is settled before any database work."""
    marked = pytest.mark.parametrize("database_kind", ["sqlite"])(test)
    return pytest.mark.one_database(ONE_DATABASE)(marked)


SUPPORT = "support@desk.example"
WRONG = "535 5.7.8 Authentication credentials invalid"
MICROSOFT = "535 5.7.139 Authentication unsuccessful, basic authentication is disabled."


@sqlite_only
def test_imap_a_wrong_password_is_refused_naming_the_account_and_the_fix(
    mailbox, make_app, monkeypatch
):
    mailbox.deliver(make_mail())
    app = make_app(mailbox)
    monkeypatch.setenv("MAILDESK_IMAP_PASSWORD", "not-" + PASSWORD)

    with pytest.raises(LoginRefused) as refused:
        poller.poll_once(app)

    assert str(refused.value) == (
        f"IMAP login as {mailbox.user!r} at 127.0.0.1:{mailbox.server.port} refused"
        " ([AUTHENTICATIONFAILED] Authentication failed.); check imap.username and the"
        " password in $MAILDESK_IMAP_PASSWORD (imap.password_env)"
    )
    assert mailbox.count("INBOX") == 1 and mailbox.count("Processed") == 0


class Accounts:
    """aiosmtpd's authenticator: the desk's login with PASSWORD, else `refusal`."""

    def __init__(self, refusal: str) -> None:
        self.refusal = refusal
        self.refused = 0

    def __call__(self, server, session, envelope, mechanism, data) -> AuthResult:
        if isinstance(data, LoginPassword) and (data.login, data.password) == (
            SUPPORT.encode(),
            PASSWORD.encode(),
        ):
            return AuthResult(success=True)
        self.refused += 1
        return AuthResult(success=False, handled=False, message=self.refusal)


@pytest.fixture
def auth_sink(request) -> Iterator[tuple[SmtpSink, Accounts]]:
    """An SMTP sink that wants a login (AUTH PLAIN and LOGIN, in plain text on loopback)."""
    accounts = Accounts(getattr(request, "param", WRONG))
    sink = SmtpSink(port=free_port())
    controller = Controller(
        sink, hostname="127.0.0.1", port=sink.port, authenticator=accounts, auth_require_tls=False
    )
    controller.start()
    try:
        yield sink, accounts
    finally:
        controller.stop()


def smtp_login_toml(port: int) -> str:
    return f"""
[smtp]
host = "127.0.0.1"
port = {port}
security = "none"
username = "{SUPPORT}"
password_env = "MAILDESK_SMTP_PASSWORD"
from_address = "{SUPPORT}"
"""


@sqlite_only
def test_smtp_logs_in_with_the_password(auth_sink, make_app, monkeypatch):
    sink, accounts = auth_sink
    monkeypatch.setenv("MAILDESK_SMTP_PASSWORD", PASSWORD)
    app = make_app(extra=smtp_login_toml(sink.port))
    pipeline.process(app, make_mail().as_bytes(), "test")

    assert asyncio.run(outbox.drain(app)).sent == 1
    assert len(sink.received) == 1 and accounts.refused == 0


@sqlite_only
@pytest.mark.parametrize(
    ("auth_sink", "fix"),
    [
        (
            WRONG,
            "check smtp.username and the password in $MAILDESK_SMTP_PASSWORD (smtp.password_env)",
        ),
        (
            MICROSOFT,
            'Microsoft 365 has basic authentication off: set smtp.auth = "oauth2"'
            " (README: Microsoft 365 and Gmail)",
        ),
    ],
    indirect=["auth_sink"],
    ids=["wrong-password", "microsoft"],
)
def test_smtp_a_refused_login_keeps_the_mail_and_counts_no_attempt(
    auth_sink, fix, make_app, monkeypatch
):
    sink, accounts = auth_sink
    monkeypatch.setenv("MAILDESK_SMTP_PASSWORD", "not-" + PASSWORD)
    app = make_app(extra=smtp_login_toml(sink.port))
    pipeline.process(app, make_mail().as_bytes(), "test")

    with pytest.raises(LoginRefused) as refused:
        asyncio.run(outbox.drain(app))

    message = (
        f"SMTP login as {SUPPORT!r} at 127.0.0.1:{sink.port} refused ({accounts.refusal}); {fix}"
    )
    assert str(refused.value) == message
    assert sink.received == [] and accounts.refused >= 1
    with db.transaction(app.sessions) as session:
        row = session.scalar(select(OutboxMail))
        assert (row.status, row.attempts, row.last_error) == (OutboxStatus.PENDING, 0, message)


@pytest.mark.parametrize(
    ("answer", "fix"),
    [
        (
            "[ALERT] Application-specific password required:"
            " https://support.google.com/accounts/answer/185833 (Failure)",
            "Google takes a password here only as an app password: use one, or set"
            ' mailboxes[2].auth = "oauth2" (README: Microsoft 365 and Gmail)',
        ),
        (
            "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for"
            " the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information.",
            "the Microsoft 365 tenant has SMTP AUTH off: an administrator turns it on for this"
            " mailbox (Set-CASMailbox -SmtpClientAuthenticationDisabled $false)",
        ),
        (
            "[PRIVACYREQUIRED] Plaintext authentication disallowed on non-secure (SSL/TLS)"
            " connections.",
            'the server takes no password in plain text: set mailboxes[2].security = "ssl"'
            ' or "starttls"',
        ),
        (
            "AUTHENTICATE failed.",
            "check mailboxes[2].username and the password in $P (mailboxes[2].password_env)",
        ),
    ],
    ids=["google", "microsoft-smtp-auth-off", "dovecot-plaintext", "plain"],
)
def test_the_fix_is_read_from_the_servers_words(answer, fix):
    server = SmtpConfig(
        "h",
        1,
        "ssl",
        "u",
        Secret("mailboxes[2].password_env", "P"),
        "u@x",
        1.0,
        Trust("mailboxes[2]"),
    )
    assert refusal.fix(server, answer) == fix


@sqlite_only
def test_imap_sends_the_client_certificate_to_a_server_that_wants_one(
    client_cert_dovecot, ca_file, client_pem, make_app
):
    box = Mailbox(ImapServer("dovecot-client-cert", client_cert_dovecot), "cc@example.test")
    toml = imap_toml(box, client_cert_dovecot, "ssl", ca_file=ca_file)
    without = make_app(extra=toml).config.mailboxes[0].imap
    with pytest.raises(LoginRefused, match=r"^IMAP login as 'cc@example.test' at 127\.0\.0\.1"):
        Inbox(without).connect()

    with_cert = make_app(extra=toml + f'client_cert = "{client_pem}"\n').config.mailboxes[0].imap
    with Inbox(with_cert) as inbox:
        assert inbox.uids() == [] and inbox.tls_version().startswith("TLSv1.")


@sqlite_only
def test_smtp_sends_the_client_certificate_to_a_server_that_wants_one(
    server_pem, ca_file, client_pem, make_app
):
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(server_pem)
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_verify_locations(ca_file)
    sink = SmtpSink(port=free_port())
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port, ssl_context=context)
    controller.start()
    try:
        toml = f"""
[smtp]
host = "127.0.0.1"
port = {sink.port}
security = "ssl"
from_address = "{SUPPORT}"
ca_file = "{ca_file}"
client_cert = "{client_pem}"
"""
        app = make_app(extra=toml)
        pipeline.process(app, make_mail().as_bytes(), "test")
        assert asyncio.run(outbox.drain(app)).sent == 1
    finally:
        controller.stop()
    assert len(sink.received) == 1


@pytest.fixture
def client_cert_gate(server_pem, ca_file) -> Iterator[int]:
    """A TLS endpoint that aborts the handshake without a client certificate of the test CA,
    as a proxy in front of IMAP (stunnel, a load balancer) does; then greets as IMAP."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(server_pem)
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_verify_locations(ca_file)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)

    def serve() -> None:
        try:
            plain, _ = listener.accept()
        except OSError:
            return
        with plain:
            try:
                with context.wrap_socket(plain, server_side=True) as tls:
                    tls.sendall(b"* OK ready\r\n")
            except ssl.SSLError:
                pass  # no certificate: the alert is sent

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()
        thread.join(10)


@sqlite_only
def test_a_server_that_wants_a_client_certificate_is_named(client_cert_gate, ca_file, make_app):
    box = Mailbox(ImapServer("gate", client_cert_gate), "cc@example.test")
    app = make_app(extra=imap_toml(box, client_cert_gate, "ssl", ca_file=ca_file))
    with pytest.raises(ConfigError) as refused:
        Inbox(app.config.mailboxes[0].imap).connect()
    assert str(refused.value) == (
        f"IMAP 127.0.0.1:{client_cert_gate}: the server refused our client certificate"
        " (TLSV13_ALERT_CERTIFICATE_REQUIRED); set imap.client_cert"
    )


@sqlite_only
def test_smtp_logs_in_after_starttls(server_pem, ca_file, make_app, monkeypatch):
    """The usual submission port: STARTTLS, then AUTH, which the server offers only then."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(server_pem)
    accounts = Accounts(WRONG)
    sink = SmtpSink(port=free_port())
    controller = Controller(
        sink,
        hostname="127.0.0.1",
        port=sink.port,
        tls_context=context,
        require_starttls=True,
        authenticator=accounts,
    )
    controller.start()
    monkeypatch.setenv("MAILDESK_SMTP_PASSWORD", PASSWORD)
    try:
        toml = smtp_login_toml(sink.port).replace('"none"', '"starttls"')
        app = make_app(extra=toml + f'ca_file = "{ca_file}"\n')
        pipeline.process(app, make_mail().as_bytes(), "test")
        assert asyncio.run(outbox.drain(app)).sent == 1
    finally:
        controller.stop()
    assert len(sink.received) == 1 and accounts.refused == 0
