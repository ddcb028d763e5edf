"""`maildesk demo`: embedded IMAP (pymap) and SMTP (aiosmtpd) on loopback, sample
mails, the real daemon, and a summary of the tickets and acknowledgements.

Nothing to set up: everything lives in a temporary folder that is removed at
the end. Needs the `demo` extra (pymap, aiosmtpd).
"""

import os
import tempfile
import time
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formatdate, make_msgid
from pathlib import Path

import click
from sqlalchemy import func, select

from maildesk import config as config_module
from maildesk.app import App
from maildesk.daemon.loop import Daemon
from maildesk.demo.servers import SmtpCapture, append, free_port, start_pymap
from maildesk.errors import MaildeskError
from maildesk.store import db
from maildesk.store.intake_tables import Receipt
from maildesk.store.tables import OutboxMail, OutboxStatus
from maildesk.views import records

USER, PASSWORD = "support@demo.test", "demo-password"
CONFIG = """
[desk]
name = "Demo Support"
subject_tag = "[Ticket#{{number}}]"
timezone = "Asia/Shanghai"
default_locale = "en"
secret_env = "MAILDESK_SECRET"

[database]
url = "sqlite:///{db}"

[imap]
host = "127.0.0.1"
port = {imap_port}
security = "none"
username = "{user}"
password_env = "MAILDESK_IMAP_PASSWORD"
poll_interval = 2
idle = true

[smtp]
host = "127.0.0.1"
port = {smtp_port}
security = "none"
from_address = "{user}"

[[rules]]
name = "outage"
subject_regex = "(?i)(outage|down|宕机|无法登录)"
priority = "P0"
category = "outage"

[[rules]]
name = "billing"
subject_regex = "(?i)(invoice|billing|发票)"
priority = "P3"
category = "billing"
"""


def customer_mail(
    sender: str,
    subject: str,
    body: str,
    to: str = USER,
    date: datetime | None = None,
    **headers: str,
) -> EmailMessage:
    """A plain mail as a customer's client writes it; `Header_Name=` adds headers."""
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = sender, to, subject
    mail["Date"] = format_datetime(date) if date else formatdate(localtime=True)
    mail["Message-ID"] = make_msgid(domain="customer.example")
    for name, value in headers.items():
        mail[name.replace("_", "-")] = value
    mail.set_content(body)
    return mail


SAMPLES = (
    customer_mail(
        "Ann Lee <ann@shop.example>",
        "Checkout outage: customers cannot pay",
        "Since 09:10 every payment fails with error 502. This is urgent.",
    ),
    customer_mail(
        "张伟 <zhang.wei@example.cn>",
        "系统宕机，无法登录",
        "您好，我们公司所有用户从今天早上开始都无法登录系统，请尽快处理。",
    ),
    customer_mail(
        "Bob Stone <bob@corp.example>",
        "Question about last month's invoice",
        "Hello, the invoice for October lists two seats more than we have.",
    ),
    customer_mail(
        "Carol <carol@corp.example>",
        "Automatic reply: Out of office",
        "I am out of the office until Monday.",
        Auto_Submitted="auto-replied",
    ),
)


def _wait_processed(app: App, expected: int) -> None:
    """Until `expected` mails are handled and the outbox is empty (60 s at most)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with db.transaction(app.sessions) as session:
            handled = session.scalar(select(func.count(Receipt.id))) or 0
            pending = session.scalar(
                select(func.count(OutboxMail.id)).where(OutboxMail.status == OutboxStatus.PENDING)
            )
        if handled >= expected and not pending:
            return
        time.sleep(0.2)
    raise MaildeskError("the demo daemon did not finish within 60 s")


def run_demo() -> None:
    try:
        from aiosmtpd.controller import Controller
    except ImportError as exc:
        raise MaildeskError("the demo needs the demo extra: pip install 'maildesk[demo]'") from exc
    with tempfile.TemporaryDirectory(prefix="maildesk-demo-") as tmp:
        imap_port, smtp_port = free_port(), free_port()
        pymap = start_pymap(imap_port, USER, PASSWORD)
        capture = SmtpCapture()
        smtpd = Controller(capture, hostname="127.0.0.1", port=smtp_port)
        smtpd.start()
        try:
            _run(Path(tmp), imap_port, smtp_port, capture)
        finally:
            smtpd.stop()
            pymap.terminate()
            pymap.wait(10)


def _run(tmp: Path, imap_port: int, smtp_port: int, capture: SmtpCapture) -> None:
    path = tmp / "maildesk.toml"
    path.write_text(
        CONFIG.format(db=tmp / "demo.db", imap_port=imap_port, smtp_port=smtp_port, user=USER),
        encoding="utf-8",
    )
    os.environ.setdefault("MAILDESK_SECRET", "demo-secret-not-for-production")
    os.environ["MAILDESK_IMAP_PASSWORD"] = PASSWORD
    app = App.build(config_module.load(path))
    db.upgrade(app.engine)
    click.echo(f"embedded IMAP on 127.0.0.1:{imap_port}, SMTP on 127.0.0.1:{smtp_port}")
    for mail in SAMPLES:
        append(imap_port, USER, PASSWORD, mail)
    click.echo(f"delivered {len(SAMPLES)} sample mails; starting the daemon")
    daemon = Daemon(app)
    daemon.start()
    try:
        _wait_processed(app, len(SAMPLES))
        _reply_to_first_ack(imap_port, capture)
        _wait_processed(app, len(SAMPLES) + 1)
    finally:
        daemon.shutdown()
    _summary(app, capture)
    app.close()


def _reply_to_first_ack(imap_port: int, capture: SmtpCapture) -> None:
    """The customer answers our acknowledgement: it must join the same ticket."""
    first_ack = next(m for m in capture.mails if m["In-Reply-To"] == SAMPLES[0]["Message-ID"])
    follow_up = customer_mail(
        "Ann Lee <ann@shop.example>",
        f"Re: {first_ack['Subject']}",
        "Still failing at 10:05, about 300 orders lost so far.",
        In_Reply_To=first_ack["Message-ID"],
        References=first_ack["Message-ID"],
    )
    append(imap_port, USER, PASSWORD, follow_up)
    click.echo("customer replied to the first acknowledgement")


def _summary(app: App, capture: SmtpCapture) -> None:
    with db.transaction(app.sessions) as session:
        rows = records.ticket_list(session)
        found = {r["number"]: records.ticket_detail(session, r["number"]) for r in rows}
    details = {number: detail for number, detail in found.items() if detail is not None}
    click.echo("\nTickets:")
    for row in rows:
        incoming = [m for m in details[row["number"]]["messages"] if m["direction"] == "in"]
        kinds = ", ".join(m["class"] for m in incoming)
        click.echo(
            f"  #{row['number']}  {row['priority']}  {row['status']:8} "
            f"{row['customer']:28} {row['subject']}  [{len(incoming)} in: {kinds}]"
        )
    click.echo(f"\nAcknowledgements sent ({len(capture.mails)}):")
    for mail in capture.mails:
        click.echo(f"  to {mail['To']:28} {mail['Subject']}")
