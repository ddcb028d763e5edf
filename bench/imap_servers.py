"""Real IMAP servers on loopback for the benches: pymap and Dovecot.

Why a module of its own: a figure that holds for one server only says little
(pymap and Dovecot differ in how and when they tell an IDLE client), and the
suite's recipes live in pytest fixtures; this starts the same servers, the
demo's pymap and the suite's Dovecot config, without pytest running.
"""

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from maildesk.demo.servers import free_port, start_pymap
from tests.conftest import start_dovecot

SERVERS = ("pymap", "dovecot")


def imap_toml(port: int, user: str, idle: bool, poll_interval: float) -> str:
    """The desk's [imap] table for a server of this module (password in the environment)."""
    return f"""
[imap]
host = "127.0.0.1"
port = {port}
security = "none"
username = "{user}"
password_env = "MAILDESK_IMAP_PASSWORD"
idle = {"true" if idle else "false"}
poll_interval = {poll_interval}
"""


@contextmanager
def imap_server(name: str, work: Path, user: str, password: str) -> Iterator[int]:
    """Start server `name` with `user` able to log in; yields its port, stops it after.

    `work` is where the caller keeps its files; Dovecot keeps its own folder
    (tests/conftest.py `start_dovecot`), removed when it stops.
    """
    port = free_port()
    folder = None
    if name == "pymap":
        proc = start_pymap(port, user, password)
    else:
        binary = shutil.which("dovecot", path="/usr/sbin:/sbin:/usr/bin")
        if binary is None:
            raise SystemExit("Dovecot not installed (apt-get install dovecot-imapd)")
        proc, folder = start_dovecot(binary, port, password)
    try:
        yield port
    finally:
        proc.terminate()
        proc.wait(15)
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
