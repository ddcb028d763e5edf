"""`maildesk demo`: the life of two tickets in under a minute, on embedded IMAP (pymap)
and SMTP (aiosmtpd) servers on loopback, through the real pipeline and daemon jobs.

The desk's clock starts eight days ago and the story moves it forward (SLA
warnings, a day to the survey, a week to the close) with no waiting. Everything
lives in a temporary folder, or in `--keep DIR` to go on with the commands
afterwards; the report's page is written into the current directory. Needs the
`demo` extra (pymap, aiosmtpd).
"""

import os
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from maildesk import config as config_module
from maildesk.app import App
from maildesk.demo.clock import Clock
from maildesk.demo.scene import Missed, Scene
from maildesk.demo.servers import Deliveries, SmtpCapture, free_port, start_pymap
from maildesk.demo.story import STEPS, Step
from maildesk.errors import MaildeskError
from maildesk.store import db

USER, PASSWORD = "support@demo.test", "demo-password"
SECRET = "demo-secret-not-for-production"  # noqa: S105 - a throwaway desk on loopback
STORY_DAYS = 8  # the clock starts this long ago, so the story ends about now
CONFIG = """
[desk]
name = "Demo Support"
subject_tag = "[Ticket#{{number}}]"
timezone = "Asia/Shanghai"
default_locale = "en"
secret_env = "MAILDESK_SECRET"

[database]
url = "sqlite:///{db}"

[kb]
dir = "{kb_dir}"

[imap]
host = "127.0.0.1"
port = {imap_port}
security = "none"
username = "{user}"
password_env = "MAILDESK_IMAP_PASSWORD"
idle = false

[smtp]
host = "127.0.0.1"
port = {smtp_port}
security = "none"
from_address = "{user}"

[[agents]]
email = "lin@demo.test"
name = "Lin"
team = "support"

[[agents]]
email = "mei@demo.test"
name = "Mei"
role = "lead"

[[teams]]
name = "support"
assign = "none"
leads = ["mei@demo.test"]

[[rules]]
name = "outage"
subject_regex = "(?i)(outage|down|宕机|无法登录)"
priority = "P0"
category = "outage"

[[rules]]
name = "reports"
subject_regex = "(?i)(report|报表)"
category = "reports"
"""

# The knowledge base's known solutions (`[kb] dir`): the export failure has one.
ARTICLES = {
    "report-export-zh.md": """---
title: 报表导出失败的解决办法
slug: report-export-zh
locale: zh
category: reports
tags: [报表, 导出, 错误]
status: published
---

导出月度报表时提示错误，多半是报表模板已过期。请在“设置 > 报表模板”中重新选择模板，
保存后再次导出即可。
""",
    "password-reset.md": """---
title: Resetting a forgotten password
slug: password-reset
locale: en
category: account
tags: [password, login]
status: published
---

Open the sign-in page, choose "Forgot password" and follow the link we mail you.
The link is valid for one hour.
""",
}


def run_demo(keep: Path | None = None) -> bool:
    """Tell the story; True when every step happened."""
    try:
        from aiosmtpd.controller import Controller
    except ImportError as exc:
        raise MaildeskError("the demo needs the demo extra: pip install 'maildesk[demo]'") from exc
    with _folder(keep) as folder:
        with ExitStack() as running:  # stopped in reverse order, whatever happens
            imap_port, smtp_port = free_port(), free_port()
            pymap = start_pymap(imap_port, USER, PASSWORD)
            running.callback(pymap.wait, 10)
            running.callback(pymap.terminate)
            capture = SmtpCapture()
            smtpd = Controller(capture, hostname="127.0.0.1", port=smtp_port)
            smtpd.start()
            running.callback(smtpd.stop)
            app, clock = _desk(folder, imap_port, smtp_port)
            running.callback(app.close)
            click.echo(f"embedded IMAP on 127.0.0.1:{imap_port}, SMTP on 127.0.0.1:{smtp_port}")
            inbox = Deliveries(imap_port, USER, PASSWORD)
            running.callback(inbox.close)
            done = tell(Scene(app, clock, inbox, capture), STEPS)
        if keep is not None:
            _going_on(folder)
    return done


def tell(scene: Scene, steps: tuple[Step, ...]) -> bool:
    """Each step in order, printed as it happens; stop at the first that did not."""
    for n, step in enumerate(steps, 1):
        click.echo(f"\n[{n}/{len(steps)}] {step.title}")
        try:
            lines = step.act(scene)
        except Missed as exc:
            click.echo(f"  MISSED: {exc}", err=True)
            click.echo(f"\nthe demo stopped at step {n}: {step.title}", err=True)
            return False
        for line in lines:
            click.echo(f"  {line}")
    click.echo(f"\nevery step happened ({len(steps)} of {len(steps)})")
    return True


@contextmanager
def _folder(keep: Path | None) -> Iterator[Path]:
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        if (keep / "demo.db").exists():
            raise MaildeskError(
                f"--keep {keep}: it holds a demo already (demo.db); choose another"
            )
        yield keep
        return
    with tempfile.TemporaryDirectory(prefix="maildesk-demo-") as tmp:
        yield Path(tmp)


def _desk(folder: Path, imap_port: int, smtp_port: int) -> tuple[App, Clock]:
    """The demo's config written to `folder`, its database created, its clock set back."""
    path = folder / "maildesk.toml"
    articles = folder / "articles"
    articles.mkdir(exist_ok=True)
    for name, text in ARTICLES.items():
        (articles / name).write_text(text, encoding="utf-8")
    text = CONFIG.format(
        db=folder / "demo.db", kb_dir=articles, imap_port=imap_port, smtp_port=smtp_port, user=USER
    )
    path.write_text(text, encoding="utf-8")
    os.environ.setdefault("MAILDESK_SECRET", SECRET)
    os.environ["MAILDESK_IMAP_PASSWORD"] = PASSWORD
    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(days=STORY_DAYS)
    clock = Clock(start)
    app = App.build(config_module.load(path), clock=clock)
    db.upgrade(app.engine)
    return app, clock


def _going_on(folder: Path) -> None:
    config = folder / "maildesk.toml"
    secret = os.environ["MAILDESK_SECRET"]
    click.echo(f"\nthe database and config are kept in {folder}; go on with:")
    if secret == SECRET:
        click.echo(f"  export MAILDESK_SECRET={secret}")
    for command in ("tickets list", "tickets show 2", "sla upcoming", "report"):
        click.echo(f"  maildesk --config {config} {command}")
