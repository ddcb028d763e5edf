"""Real servers on loopback: Dovecot (IMAP, session-scoped, a fresh user per test),
pymap (second IMAP server for the IMAP layer), aiosmtpd (SMTP sink per test),
and a real SQLite database file per test. Time is injected, never slept.
"""

import email
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP
from click.testing import CliRunner
from imap_tools import MailBoxUnencrypted

from maildesk import config as config_module
from maildesk.app import App
from maildesk.cli import cli
from maildesk.demo import servers
from maildesk.demo.clock import Clock
from maildesk.demo.mails import customer_mail
from maildesk.demo.servers import free_port
from maildesk.mail.keys import Keys
from maildesk.sandbox.worker import Budget, ParseWorker
from maildesk.store import db
from tests import postgres

PASSWORD = "secret"
SECRET = "test-secret-0123456789abcdef"
KEYS = Keys((SECRET,))  # the desk keys the fixtures' apps sign with
ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "mail" / "corpus"  # our .eml cases and expected.toml
T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday 10:00 in Asia/Shanghai

DOVECOT_CONF = """
instance_name = maildesk-test-{tag}
base_dir = {d}/run
state_dir = {d}/state
listen = 127.0.0.1
protocols = imap
{ssl}
disable_plaintext_auth = no
auth_failure_delay = 0
log_path = {d}/dovecot.log
mail_location = maildir:~/Maildir
namespace inbox {{
  inbox = yes
  separator = /
}}
{auth}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={d}/mail/%u allow_all_users=yes
}}
service imap-login {{
  inet_listener imap {{
    port = {port}
  }}
  inet_listener imaps {{
    port = {imaps_port}
  }}
}}
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
"""
# How logins are checked: any user, one password.
PASSWORD_AUTH = """
auth_mechanisms = plain login
passdb {{
  driver = static
  args = password={password}
}}
"""


def wait_port(port: int, proc: subprocess.Popen, name: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited early with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"{name} did not open port {port}")


@dataclass(frozen=True)
class ImapServer:
    name: str
    port: int
    fixed_user: str | None = None

    def new_user(self) -> str:
        return self.fixed_user or f"u{uuid.uuid4().hex[:12]}@example.test"


def _find_dovecot() -> str | None:
    return shutil.which("dovecot") or shutil.which("dovecot", path="/usr/sbin:/sbin")


def start_dovecot(
    binary: str,
    port: int,
    password: str,
    ssl: str = "ssl = no",
    imaps_port: int = 0,
    auth: str = PASSWORD_AUTH,
) -> tuple[subprocess.Popen, Path]:
    """Dovecot on `port` with any user and one password; returns it and its folder.

    `ssl` holds the TLS settings (tests/transport/test_tls.py), `imaps_port` the
    port of implicit TLS (0: none), `auth` the mechanisms and passdbs (a format
    string of `password` and `d`, the folder: tests/transport/test_oauth2_imap.py).

    The folder is made with tempfile, not under pytest's own temporary tree:
    its mail processes run as nobody, and pytest (each xdist worker too) keeps
    /tmp/pytest-of-<user> at mode 0700, which would lock them out mid-session.
    """
    d = Path(tempfile.mkdtemp(prefix="maildesk-dovecot-"))
    d.chmod(0o711)
    (d / "mail").mkdir()
    shutil.chown(d / "mail", "nobody", "nogroup")
    conf = d / "dovecot.conf"
    conf.write_text(
        DOVECOT_CONF.format(
            d=d,
            port=port,
            tag=d.name,
            ssl=ssl,
            imaps_port=imaps_port,
            auth=auth.format(d=d, password=password),
        )
    )
    proc = subprocess.Popen([binary, "-F", "-c", str(conf)])
    try:
        wait_port(port, proc, "dovecot")
    except RuntimeError:
        proc.terminate()
        shutil.rmtree(d, ignore_errors=True)
        raise
    return proc, d


def relaunch_dovecot(binary: str, folder: Path, port: int) -> subprocess.Popen:
    """Dovecot again on the folder (config, mail) `start_dovecot` made, after a kill."""
    proc = subprocess.Popen([binary, "-F", "-c", str(folder / "dovecot.conf")])
    wait_port(port, proc, "dovecot")
    return proc


@pytest.fixture(scope="session")
def dovecot() -> Iterator[ImapServer]:
    binary = _find_dovecot()
    if binary is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Dovecot is missing on CI: .ci/run must install dovecot-imapd")
        pytest.skip("Dovecot not installed (apt-get install dovecot-imapd)")
    port = free_port()
    proc, folder = start_dovecot(binary, port, PASSWORD)
    try:
        yield ImapServer("dovecot", port)
    finally:
        proc.terminate()
        proc.wait(15)
        shutil.rmtree(folder, ignore_errors=True)


PYMAP_USER = "support@pymap.test"


def start_pymap(port: int) -> subprocess.Popen:
    """pymap's in-memory server with one user, ready on `port` (the demo's own recipe)."""
    return servers.start_pymap(port, PYMAP_USER, PASSWORD)


@pytest.fixture(scope="session")
def pymap_server() -> Iterator[ImapServer]:
    pytest.importorskip("pymap")
    port = free_port()
    proc = start_pymap(port)
    try:
        yield ImapServer("pymap", port, fixed_user=PYMAP_USER)
    finally:
        proc.terminate()
        proc.wait(15)


# The modules of the longest tests (daemons, the demo, the simulation as processes, a
# minute each on a loaded machine). They run first: xdist hands tests out in order, and
# one of these at the end would keep one worker busy while the other sits idle.
LONGEST_FIRST = (
    "tests/test_workers.py",
    "tests/daemon/test_process.py",
    "tests/test_simulation.py",
    "tests/test_demo.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest modules' tests moved to the front; the order is otherwise kept."""
    items.sort(key=lambda item: item.nodeid.split("::")[0] not in LONGEST_FIRST)


# The parse budget of tests: short enough that a runaway parse ends quickly.
TEST_BUDGET = Budget(max_bytes=10 * 1024 * 1024, seconds=2.0, memory_bytes=512 * 1024 * 1024)


@pytest.fixture(scope="session")
def parser() -> Iterator[ParseWorker]:
    """A parse child shared by the tests that parse without an App."""
    worker = ParseWorker(TEST_BUDGET)
    yield worker
    worker.close()


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[postgres.PostgresCluster]:
    """A PostgreSQL cluster of the session's own, on loopback."""
    try:
        cluster = postgres.start(free_port())
    except FileNotFoundError as missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{missing} is missing on CI: .ci/run must install it")
        pytest.skip(f"{missing} not installed")
    yield cluster
    postgres.stop(cluster)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_kind(request: pytest.FixtureRequest) -> str:
    """Every test that touches the database runs on SQLite and on PostgreSQL."""
    return request.param


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once per session (per xdist worker): copying it costs a
    millisecond, running the migrations on each test's file cost half a second."""
    path = tmp_path_factory.mktemp("sqlite-template") / "desk.db"
    engine = db.make_engine(f"sqlite:///{path}")
    try:
        db.upgrade(engine)
    finally:
        engine.dispose()  # the last connection checkpoints WAL into the file
    return path


@pytest.fixture
def database_url(database_kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database at the newest migration: a copy of the migrated SQLite file, or a
    PostgreSQL copy of the migrated template."""
    if database_kind == "sqlite":
        path = tmp_path / "desk.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    return request.getfixturevalue("pg_cluster").new_database()


@pytest.fixture
def empty_database_url(database_kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database with no schema at all, for what `maildesk init` must do itself."""
    if database_kind == "sqlite":
        return f"sqlite:///{tmp_path / 'desk.db'}"
    return request.getfixturevalue("pg_cluster").new_database(template="template0")


@dataclass
class SmtpSink:
    """What the daemon sent, as parsed messages with their envelopes, and how many
    connections it opened (the outbox sends a drain over one)."""

    port: int
    received: list[tuple[str, list[str], EmailMessage]] = field(default_factory=list)
    refuse: bool = False
    connections: int = 0
    _arrived: threading.Condition = field(default_factory=threading.Condition, repr=False)

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802
        if self.refuse:
            return "451 4.3.0 try again later"
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        with self._arrived:
            self.received.append((envelope.mail_from, list(envelope.rcpt_tos), message))
            self._arrived.notify_all()
        return "250 OK"

    def wait_for(self, count: int, timeout: float) -> None:
        """Until `count` mails have arrived; `timeout` (seconds) only catches a hang."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self.received) >= count, timeout):
                raise AssertionError(f"{len(self.received)} of {count} mails in {timeout} s")

    @property
    def messages(self) -> list[EmailMessage]:
        return [m for _, _, m in self.received]


class _CountingSMTP(SMTP):
    def connection_made(self, transport) -> None:
        self.event_handler.connections += 1
        super().connection_made(transport)


class _SinkController(Controller):
    def factory(self) -> SMTP:
        return _CountingSMTP(self.handler, **self.SMTP_kwargs)


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    sink = SmtpSink(port=free_port())
    controller = _SinkController(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    sink.connections = 0  # the controller's own probe of its port at start
    try:
        yield sink
    finally:
        controller.stop()


@dataclass
class Mailbox:
    """A fresh IMAP user: deliver mail into INBOX, look at folders."""

    server: ImapServer
    user: str

    def connect(self) -> MailBoxUnencrypted:
        return MailBoxUnencrypted("127.0.0.1", self.server.port).login(self.user, PASSWORD)

    def deliver(self, *raws: bytes | EmailMessage) -> None:
        with self.connect() as box:
            for raw in raws:
                data = raw.as_bytes() if isinstance(raw, EmailMessage) else raw
                box.append(data, "INBOX", flag_set=())

    def count(self, folder: str) -> int:
        with self.connect() as box:
            if not box.folder.exists(folder):
                return 0
            return box.folder.status(folder, ["MESSAGES"])["MESSAGES"]


@pytest.fixture
def mailbox(dovecot: ImapServer) -> Mailbox:
    return Mailbox(dovecot, dovecot.new_user())


@pytest.fixture(params=["dovecot", "pymap_server"])
def any_mailbox(request: pytest.FixtureRequest) -> Mailbox:
    """An empty mailbox on Dovecot, then on pymap (whose one shared user is emptied first)."""
    server = request.getfixturevalue(request.param)
    box = Mailbox(server, server.new_user())
    with box.connect() as client:
        for folder in client.folder.list():
            client.folder.set(folder.name)
            client.delete(client.uids())
    return box


@pytest.fixture
def clock() -> Clock:
    """Injected time: tests move it forward instead of sleeping."""
    return Clock(T0)


def config_text(
    database: Path | str,
    imap_port: int | None,
    user: str | None,
    smtp_port: int | None,
    extra: str = "",
    busy_timeout: float = 30.0,
) -> str:
    url = f"sqlite:///{database}" if isinstance(database, Path) else database
    parts = [
        f"""
[desk]
name = "Test Support"
subject_tag = "[Ticket#{{number}}]"
timezone = "Asia/Shanghai"
default_locale = "en"
secret_env = "MAILDESK_SECRET"

[database]
url = "{url}"
busy_timeout = {busy_timeout}

[outbox]
retry_base_seconds = 60
max_attempts = 5
connections = 1  # what a drain does on each connection is counted; test_outbox shares one
"""
    ]
    if imap_port:
        parts.append(f"""
[imap]
host = "127.0.0.1"
port = {imap_port}
security = "none"
username = "{user}"
password_env = "MAILDESK_IMAP_PASSWORD"
poll_interval = 0.5
idle = false
""")
    if smtp_port:
        parts.append(f"""
[smtp]
host = "127.0.0.1"
port = {smtp_port}
security = "none"
from_address = "support@desk.example"
""")
    parts.append("""
[[rules]]
name = "outage"
subject_regex = "(?i)(outage|down|宕机|无法登录)"
priority = "P0"
category = "outage"

[[rules]]
name = "vip"
sender_domain = "vip.example"
priority = "P1"
team = "key-accounts"
""")
    parts.append(extra)
    return "\n".join(parts)


@pytest.fixture(autouse=True)
def secrets_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAILDESK_SECRET", SECRET)
    monkeypatch.setenv("MAILDESK_IMAP_PASSWORD", PASSWORD)


@pytest.fixture
def make_app(tmp_path: Path, clock: Clock, database_url: str) -> Iterator[Callable[..., App]]:
    """Build an App on a fresh database (SQLite file or PostgreSQL); `extra` is appended TOML."""
    apps: list[App] = []

    def build(
        mailbox: Mailbox | None = None,
        sink: SmtpSink | None = None,
        extra: str = "",
        busy_timeout: float = 30.0,
    ) -> App:
        path = tmp_path / "maildesk.toml"
        path.write_text(
            config_text(
                database_url,
                mailbox.server.port if mailbox else None,
                mailbox.user if mailbox else None,
                sink.port if sink else None,
                extra,
                busy_timeout,
            ),
            encoding="utf-8",
        )
        app = App.build(config_module.load(path), clock=clock)
        db.require_current(app.engine)  # database_url is migrated already
        apps.append(app)
        return app

    yield build
    for app in apps:
        app.close()


def make_mail(
    sender: str = "Ann Lee <ann@customer.example>",
    subject: str = "Help please",
    body: str = "My printer is on fire.",
    to: str = "support@desk.example",
    date: datetime = T0,
    **headers: str,
) -> EmailMessage:
    """A customer's mail with test defaults (the demo's builder)."""
    return customer_mail(sender, subject, body, to=to, date=date, **headers)


def maildesk_cli(
    *args: str, config: Path, timeout: float = 120, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Run the installed command line as an operator would."""
    environment = dict(os.environ, MAILDESK_SECRET=SECRET, MAILDESK_IMAP_PASSWORD=PASSWORD)
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "maildesk", "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=environment,
    )


def maildesk_in_process(*args: str, config: Path) -> subprocess.CompletedProcess:
    """The command line run in this process (click's runner): what `maildesk_cli` gives,
    without the two seconds a new interpreter takes to import the desk."""
    environment = {"MAILDESK_SECRET": SECRET, "MAILDESK_IMAP_PASSWORD": PASSWORD}
    result = CliRunner().invoke(cli, ["--config", str(config), *args], env=environment)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return subprocess.CompletedProcess(args, result.exit_code, result.stdout, result.stderr)


# The TLS servers' fixtures, here so that every test module shares one of each.
from tests.tls_servers import (  # noqa: E402
    ca,
    ca_file,
    client_cert_dovecot,
    client_pem,
    server_pem,
    tls_dovecot,
    tls_mailbox,
    tls_smtp,
)

__all__ = [
    "ca",
    "ca_file",
    "client_cert_dovecot",
    "client_pem",
    "server_pem",
    "tls_dovecot",
    "tls_mailbox",
    "tls_smtp",
]
