"""Real IMAP servers on loopback for the benches: pymap and Dovecot.

Why a module of its own: a figure that holds for one server only says little
(pymap and Dovecot differ in how and when they tell an IDLE client), and the
suite's recipes live in pytest fixtures; this starts the same servers, the
demo's pymap and the suite's Dovecot config, without pytest running.
"""

import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from maildesk.demo import free_port, start_pymap
from tests.conftest import DOVECOT_CONF, wait_port

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
    """Start server `name` with `user` able to log in; yields its port, stops it after."""
    port = free_port()
    proc = start_pymap(port, user, password) if name == "pymap" else _dovecot(work, port, password)
    try:
        yield port
    finally:
        proc.terminate()
        proc.wait(15)


def _dovecot(work: Path, port: int, password: str) -> subprocess.Popen:
    """Dovecot as tests/conftest.py runs it: any user, one password, mail under `work`."""
    binary = shutil.which("dovecot", path="/usr/sbin:/sbin:/usr/bin")
    if binary is None:
        raise SystemExit("Dovecot not installed (apt-get install dovecot-imapd)")
    d = work / "dovecot"
    (d / "mail").mkdir(parents=True)
    for parent in [d, *d.parents]:  # the mail processes run as nobody
        if parent == Path("/"):
            break
        parent.chmod(parent.stat().st_mode | 0o011)
    shutil.chown(d / "mail", "nobody", "nogroup")
    conf = d / "dovecot.conf"
    conf.write_text(DOVECOT_CONF.format(d=d, port=port, password=password, tag=d.parent.name))
    proc = subprocess.Popen([binary, "-F", "-c", str(conf)])
    wait_port(port, proc, "dovecot")
    return proc
