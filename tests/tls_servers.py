"""TLS servers on loopback for the tests: trustme certificates for 127.0.0.1 from a CA no
system trusts; a Dovecot that takes no login without TLS (implicit TLS and STARTTLS
ports), aiosmtpd over TLS; the TOML that points the desk at them.

Imported by tests/conftest.py, so each session-scoped server runs once per worker.
"""

import os
import shutil
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme
from aiosmtpd.controller import Controller
from imap_tools import MailBox

from tests.conftest import (
    PASSWORD,
    ImapServer,
    Mailbox,
    SmtpSink,
    _find_dovecot,
    free_port,
    start_dovecot,
    wait_port,
)


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="session")
def ca_file(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return path


@pytest.fixture(scope="session")
def server_pem(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Key and certificate chain for 127.0.0.1 only (so `localhost` is the wrong name)."""
    path = tmp_path_factory.mktemp("server") / "server.pem"
    ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(str(path))
    return path


@dataclass(frozen=True)
class TlsDovecot:
    ports: dict[str, int]  # by security: "ssl" (implicit TLS), "starttls"


@pytest.fixture(scope="session")
def tls_dovecot(server_pem: Path) -> Iterator[TlsDovecot]:
    """A second Dovecot that takes no login without TLS, on both of its ports."""
    binary = _find_dovecot()
    if binary is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Dovecot is missing on CI: .ci/run must install dovecot-imapd")
        pytest.skip("Dovecot not installed (apt-get install dovecot-imapd)")
    plain, implicit = free_port(), free_port()
    settings = f"ssl = required\nssl_cert = <{server_pem}\nssl_key = <{server_pem}"
    proc, folder = start_dovecot(binary, plain, PASSWORD, settings, implicit)
    try:
        wait_port(implicit, proc, "dovecot")
        yield TlsDovecot({"ssl": implicit, "starttls": plain})
    finally:
        proc.terminate()
        proc.wait(15)
        shutil.rmtree(folder, ignore_errors=True)


@dataclass
class TlsMailbox(Mailbox):
    """A fresh user of the TLS Dovecot; the test's own connections trust its CA."""

    context: ssl.SSLContext | None = None

    def connect(self) -> MailBox:
        box = MailBox("127.0.0.1", self.server.port, ssl_context=self.context)
        return box.login(self.user, PASSWORD)


@pytest.fixture
def tls_mailbox(tls_dovecot: TlsDovecot, ca_file: Path) -> TlsMailbox:
    server = ImapServer("dovecot-tls", tls_dovecot.ports["ssl"])
    context = ssl.create_default_context(cafile=ca_file)
    return TlsMailbox(server, server.new_user(), context)


def imap_toml(
    box: Mailbox, port: int, security: str, host: str = "127.0.0.1", ca_file: Path | None = None
) -> str:
    trust = f'ca_file = "{ca_file}"' if ca_file else ""
    return f"""
[imap]
host = "{host}"
port = {port}
security = "{security}"
username = "{box.user}"
password_env = "MAILDESK_IMAP_PASSWORD"
idle = false
{trust}
"""


@pytest.fixture(params=["ssl", "starttls"])
def tls_smtp(request, server_pem: Path) -> Iterator[tuple[SmtpSink, str]]:
    """aiosmtpd over implicit TLS, or one that takes mail only after STARTTLS."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(server_pem)
    sink = SmtpSink(port=free_port())
    if request.param == "ssl":
        controller = Controller(sink, hostname="127.0.0.1", port=sink.port, ssl_context=context)
    else:
        controller = Controller(
            sink, hostname="127.0.0.1", port=sink.port, tls_context=context, require_starttls=True
        )
    controller.start()
    try:
        yield sink, request.param
    finally:
        controller.stop()


def smtp_toml(port: int, security: str) -> str:
    return f"""
[smtp]
host = "127.0.0.1"
port = {port}
security = "{security}"
from_address = "support@desk.example"
"""


@pytest.fixture(scope="session")
def client_pem(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Our client certificate and its key, issued by the test CA."""
    path = tmp_path_factory.mktemp("client") / "client.pem"
    ca.issue_cert("desk.example").private_key_and_cert_chain_pem.write_to_path(str(path))
    return path


@pytest.fixture(scope="session")
def client_cert_dovecot(server_pem: Path, ca_file: Path) -> Iterator[int]:
    """A Dovecot over implicit TLS that takes a login only with a client certificate of the
    test CA; yields its port."""
    binary = _find_dovecot()
    if binary is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Dovecot is missing on CI: .ci/run must install dovecot-imapd")
        pytest.skip("Dovecot not installed (apt-get install dovecot-imapd)")
    ca_file.chmod(0o644)  # read by Dovecot's login processes, which are not root
    settings = (
        f"ssl = required\nssl_cert = <{server_pem}\nssl_key = <{server_pem}\n"
        f"ssl_ca = <{ca_file}\nssl_verify_client_cert = yes\nssl_require_crl = no\n"
        "auth_ssl_require_client_cert = yes"
    )
    implicit = free_port()
    proc, folder = start_dovecot(binary, free_port(), PASSWORD, settings, implicit)
    try:
        wait_port(implicit, proc, "dovecot")
        yield implicit
    finally:
        proc.terminate()
        proc.wait(15)
        shutil.rmtree(folder, ignore_errors=True)
