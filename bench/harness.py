"""What the bench scripts share: the bench desk's config and timed child runs.

Why a module of its own: ingest.py and poll.py run the same desk (rules,
database, SMTP) and report in the same units, and a benchmark that runs
maildesk as a child needs its time, CPU and the peak RSS of its process tree.
"""

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from mailmime import SUPPORT

MIB = 1024 * 1024
_HEAD = """
[desk]
name = "Bench Support"
subject_tag = "[Ticket#{{number}}]"
timezone = "Asia/Shanghai"
default_locale = "en"
secret_env = "MAILDESK_SECRET"

[database]
url = "{url}"
"""
_SMTP = """
[smtp]
host = "127.0.0.1"
port = {smtp_port}
security = "none"
from_address = "{support}"
"""
_RULES = """
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
"""
# The realistic desk: two teams of three agents, each team with a lead,
# so new tickets are assigned and notified (the standards' SLA is the default).
_STAFF = (
    "".join(
        f'\n[[agents]]\nemail = "{name}@desk.example"\nname = "{name.title()}"\nteam = "{team}"\n'
        for team, names in (
            ("support", ("lin", "wang", "zhao")),
            ("key-accounts", ("chen", "liu", "sun")),
        )
        for name in names
    )
    + """
[[teams]]
name = "support"
assign = "round_robin"
leads = ["lin@desk.example"]

[[teams]]
name = "key-accounts"
assign = "least_open"
leads = ["chen@desk.example"]
"""
)


def desk_head(url: str, smtp_port: int | None = 2525) -> str:
    """[desk], [database] and [smtp] of every bench desk (the SMTP port a sink, or a dummy;
    None: no [smtp], so the outbox keeps what is queued, as `import` without --send)."""
    smtp = "" if smtp_port is None else _SMTP.format(smtp_port=smtp_port, support=SUPPORT)
    return _HEAD.format(url=url) + smtp


def write_config(work: Path, extra: str = "", smtp_port: int = 2525) -> Path:
    """The bench desk's config (rules, two teams, six agents); `extra` is appended TOML.

    Only ack_latency.py sends, so only it needs `smtp_port` (its sink's).
    """
    path = work / "maildesk.toml"
    text = desk_head(f"sqlite:///{work / 'desk.db'}", smtp_port) + _RULES + _STAFF
    path.write_text(text + extra, encoding="utf-8")
    return path


@dataclass(frozen=True)
class ChildRun:
    """Wall time, CPU of the whole tree, peak RSS of its largest process, and stdout."""

    seconds: float
    cpu_seconds: float
    peak_rss_mib: float
    stdout: str


def run_child(argv: list[str], env: dict[str, str], logs: Path, name: str) -> ChildRun:
    """Run one child; its tree's peak RSS comes from os.wait4, not the RUSAGE_CHILDREN max."""
    out, err = logs / f"{name}.stdout", logs / f"{name}.stderr"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=stdout, stderr=stderr, env=env)
        _pid, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        tail = err.read_text(errors="replace")[-2000:]
        raise SystemExit(f"{name} exited {proc.returncode}:\n{tail}")
    return ChildRun(
        seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, out.read_text()
    )
