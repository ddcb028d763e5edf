"""Ingest benchmark: `maildesk import` of a generated mbox against a bare stdlib baseline.

Why it exists: intake does much more per mail than "parse it and store it"
(content-addressed blobs, dedupe, classification, threading, rules, quote
stripping, acknowledgements rendered into the outbox), but importing a large
mailbox must stay within a sane factor of that floor, and its memory must not
grow with the size of the mailbox. This script turns both into numbers; it
asserts nothing.

How to run (repository root, maildesk installed, e.g. `pip install -e '.[test,demo]'`):

    python bench/ingest.py                      # N=2000
    python bench/ingest.py --n 2000 --n 10000   # one block per N: compare peak RSS
    python bench/ingest.py --n 500 --keep       # keep the mbox, config and databases

For each N it writes, in a fresh temporary directory, a seeded mbox of
realistic support mail (plain, HTML-only and multipart/alternative bodies;
utf-8, gb2312, GBK labelled gb2312 and iso-8859-1; 8bit, quoted-printable and
base64; attachments of 2-200 KB; ~25% follow-ups with In-Reply-To; a few
auto-replies and DSN bounces), then times two child processes on it:

* `maildesk --config CFG import MBOX` on a fresh SQLite database (after `init`);
* the baseline: mailbox.mbox + email.message_from_bytes(policy.default) + one
  sqlite3 INSERT (message-id, subject, raw) per mail, committed every 100.

Peak RSS is ru_maxrss from os.wait4: the largest process of each child's tree
(for `import`, its own or that of its parse worker), so the two are comparable.
CPU is the whole tree's. The machine must be otherwise idle: `import` runs on
two cores (main process and parse worker), the baseline on one, so any other
load skews the ratio against maildesk.
"""

import argparse
import base64
import email
import html
import mailbox
import os
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import encoders, policy
from email.generator import BytesGenerator
from email.message import EmailMessage, Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr
from io import BytesIO
from pathlib import Path
from random import Random

SUPPORT = "support@desk.example"
START = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
MIB = 1024 * 1024

EN_SENTENCES = (
    "I cannot log in to the dashboard since this morning.",
    "The export to CSV stops at about 80% and never finishes.",
    "Our invoices for October show the wrong VAT number.",
    "After the last update the mobile app crashes when I open the settings page.",
    "Could you please reset the two-factor authentication for my colleague?",
    "The API returns HTTP 502 for roughly one request in twenty.",
    "We were charged twice for the annual plan.",
    "Is there a way to add more than five users to the starter plan?",
    "The password reset mail never arrives, I checked the spam folder too.",
    "Reports are very slow today, the weekly summary takes several minutes to load.",
    "Everything is down for our team in Singapore, this is an outage for us.",
    "Please find the log file attached, it shows the error at 10:42.",
    "I would like a feature request: dark mode for the web interface.",
    "Thanks for the quick fix yesterday, it works now.",
    "Unfortunately the problem is back since about an hour.",
)
ZH_SENTENCES = (
    "我们的系统从今天早上开始无法登录。",
    "导出报表的时候一直卡在百分之八十，请帮忙看一下。",
    "十月份的发票税号不对，麻烦重新开具。",
    "升级以后手机客户端打开设置页面就闪退。",
    "接口大概每二十次请求就有一次返回502错误。",
    "年费被扣了两次，请尽快退款。",
    "新加坡的同事全部宕机了，非常紧急！",
    "日志文件在附件里，错误出现在十点四十二分。",
    "建议增加深色模式，晚上使用更方便。",
    "昨天的问题已经解决了，谢谢你们的帮助。",
)
ZH_GBK_ONLY = ("我的同事王喆也遇到同样的问题。", "请联系李堃确认账号权限——谢谢。")
FR_SENTENCES = (
    "Bonjour, je n'arrive plus à me connecter depuis la mise à jour.",
    "Le serveur répond très lentement après 18h, c'est gênant.",
    "La facture de septembre indique un montant erroné.",
    "Seit gestern können wir keine Rechnungen mehr herunterladen.",
    "Die Synchronisierung schlägt bei großen Dateien fehl.",
    "Merci de votre aide rapide, à bientôt.",
)
EN_SUBJECTS = (
    "Cannot log in",
    "Export stuck at 80%",
    "Wrong VAT number on invoice",
    "App crashes",
    "Reset 2FA please",
    "API returns 502",
    "Charged twice",
    "Question about users",
    "Password reset mail missing",
    "Slow reports",
    "Outage in Singapore",
    "Feature request",
)
ZH_SUBJECTS = (
    "无法登录",
    "导出报表失败",
    "发票税号错误",
    "客户端闪退",
    "接口报错502",
    "重复扣费",
    "系统宕机",
    "建议：深色模式",
)
FR_SUBJECTS = (
    "Problème de connexion",
    "Facture erronée",
    "Synchronisierung schlägt fehl",
    "Serveur très lent",
    "Question sur l'abonnement",
)
NAMES = {
    "en": ("Ann Lee", "Bob Smith", "Carol O'Neil", "Dave Brown", "Erin Walsh", "Frank Miller"),
    "zh": ("张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊"),
    "fr": ("François Dupont", "Jürgen Müller", "Zoë Lefèvre", "Hélène Brûlé"),
}
DOMAINS = ("customer.example", "vip.example", "acme.example", "shop.example", "lab.example")
STYLES = {
    "en": (("utf-8", "alternative", "html"), (60, 25, 15)),
    "zh": (("gb2312", "gbk-as-gb2312", "utf-8", "html"), (45, 15, 30, 10)),
    "fr": (("iso-8859-1", "utf-8", "alternative"), (60, 30, 10)),
}
# style -> (charset label, codec): GBK text goes out labelled gb2312, as old clients send it
LEGACY = {
    "gb2312": ("gb2312", "gb2312"),
    "gbk-as-gb2312": ("gb2312", "gbk"),
    "iso-8859-1": ("iso-8859-1", "iso-8859-1"),
}
ATTACHMENT_TYPES = (
    ("log", "text", "plain"),
    ("png", "image", "png"),
    ("pdf", "application", "pdf"),
    ("zip", "application", "zip"),
)
MAILERS = (
    "Microsoft Outlook 16.0",
    "Foxmail 7.2.25",
    "Apple Mail (2.3731)",
    "Mozilla Thunderbird 128.3",
    "Gmail",
)


@dataclass(frozen=True)
class Customer:
    name: str
    address: str
    lang: str


@dataclass(frozen=True)
class Earlier:
    """What a follow-up, auto-reply or bounce needs to know of an earlier mail."""

    message_id: str
    references: str
    subject: str
    sender: Customer
    date: datetime
    excerpt: str


@dataclass(frozen=True)
class Generated:
    tags: tuple[str, ...]
    envelope_from: str
    date: datetime
    message: Message


# --- text ---------------------------------------------------------------------------


def sentences(rng: Random, lang: str, count: int) -> str:
    pool = {"en": EN_SENTENCES, "zh": ZH_SENTENCES, "fr": FR_SENTENCES}[lang]
    picked = [rng.choice(pool) for _ in range(count)]
    if lang == "zh" and rng.random() < 0.25:
        picked.append(rng.choice(ZH_GBK_ONLY))
    joiner = "" if lang == "zh" else " "
    paragraphs = [joiner.join(picked[i : i + 3]) for i in range(0, len(picked), 3)]
    return "\n\n".join(paragraphs)


def log_lines(rng: Random, size: int) -> str:
    lines, total = [], 0
    when = START
    while total < size:
        when += timedelta(milliseconds=rng.randint(1, 5000))
        level = rng.choice(("INFO", "INFO", "INFO", "WARN", "ERROR"))
        line = (
            f"{when:%Y-%m-%d %H:%M:%S.%f} {level:5} [worker-{rng.randint(1, 8)}] "
            f"request id={rng.getrandbits(48):012x} took {rng.randint(1, 9000)} ms"
        )
        lines.append(line)
        total += len(line) + 1
    return "\n".join(lines) + "\n"


def body_text(rng: Random, customer: Customer) -> tuple[str, str]:
    """(size tier, text): short notes, medium mails, long mails with a pasted log."""
    tier = rng.choices(("short", "medium", "long"), (55, 35, 10))[0]
    count = {"short": rng.randint(1, 3), "medium": rng.randint(4, 30), "long": 4}[tier]
    greeting, thanks = {
        "en": ("Hi support team,", "Thanks,"),
        "zh": ("您好，", "谢谢！"),
        "fr": ("Bonjour,", "Cordialement,"),
    }[customer.lang]
    text = f"{greeting}\n\n{sentences(rng, customer.lang, count)}\n"
    if tier == "long":
        text += "\n" + log_lines(rng, rng.randint(20_000, 120_000))
    signature = f"\n{thanks}\n{customer.name}\n-- \n{customer.name} | {customer.address}\n"
    return tier, text + signature


def without_prefix(subject: str) -> str:
    return subject.removeprefix("Re: ").removeprefix("回复：")


def to_html(text: str) -> str:
    blocks = [f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in text.split("\n\n")]
    return (
        '<html><head><meta charset="utf-8"><style>body{font-family:Arial}</style>'
        f'</head><body><div dir="ltr">{"".join(blocks)}</div></body></html>\n'
    )


def quoted(earlier: Earlier, lang: str) -> str:
    who = earlier.sender.name
    intro = (
        f"在 {earlier.date:%Y年%m月%d日 %H:%M}，{who} 写道："
        if lang == "zh"
        else f"On {earlier.date:%a, %d %b %Y at %H:%M}, {who} wrote:"
    )
    return "\n\n" + intro + "\n" + "".join(f"> {line}\n" for line in earlier.excerpt.split("\n"))


# --- MIME ----------------------------------------------------------------------------


def fit_style(style: str, text: str) -> str:
    """A legacy charset that cannot hold the text degrades as real clients do."""
    for candidate in (style, "gbk-as-gb2312", "utf-8") if style == "gb2312" else (style, "utf-8"):
        codec = LEGACY.get(candidate, ("", "utf-8"))[1]
        try:
            text.encode(codec)
        except UnicodeEncodeError:
            continue
        return candidate
    return "utf-8"


def modern_body(rng: Random, style: str, text: str) -> tuple[EmailMessage, str]:
    msg = EmailMessage()
    cte = rng.choices(("8bit", "quoted-printable", "base64"), (50, 30, 20))[0]
    if style == "html":
        msg.set_content(to_html(text), subtype="html", cte=cte)
    else:
        msg.set_content(text, cte=cte)
        if style == "alternative":
            msg.add_alternative(to_html(text), subtype="html", cte=cte)
    return msg, cte


def legacy_body(style: str, text: str) -> tuple[Message, str]:
    """gb2312 and GBK go out base64, iso-8859-1 quoted-printable (the stdlib's defaults)."""
    label, codec = LEGACY[style]
    msg = MIMEText(text, "plain", codec)
    msg.set_param("charset", label)
    return msg, str(msg["Content-Transfer-Encoding"])


def attachment(rng: Random, index: int) -> tuple[str, str, str, bytes]:
    ext, maintype, subtype = rng.choice(ATTACHMENT_TYPES)
    size = int(2048 * 100 ** rng.random())  # log-uniform, 2 KB .. 200 KB
    if ext == "log":
        data = log_lines(rng, size).encode()
    else:
        data = {"png": b"\x89PNG\r\n\x1a\n", "pdf": b"%PDF-1.7\n", "zip": b"PK\x03\x04"}[ext]
        data += rng.randbytes(size)
    name = f"附件{index}.{ext}" if rng.random() < 0.2 else f"attachment-{index}.{ext}"
    return name, maintype, subtype, data


def attach(rng: Random, msg: Message, count: int) -> Message:
    files = [attachment(rng, i + 1) for i in range(count)]
    if isinstance(msg, EmailMessage):
        for name, maintype, subtype, data in files:
            msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
        return msg
    mixed = MIMEMultipart("mixed")
    mixed.attach(msg)
    for name, maintype, subtype, data in files:
        param = name if name.isascii() else ("gbk", "", name)
        part = MIMEBase(maintype, subtype, name=param)
        part.set_payload(data)
        encoders.encode_base64(part)
        part.add_header("Content-Disposition", "attachment", filename=param)
        mixed.attach(part)
    return mixed


def encoded_words(value: str, legacy: tuple[str, str] | None) -> str:
    """RFC 2047 words in the mail's own charset, labelled as its client labels them."""
    if legacy is None or value.isascii():
        return value
    label, codec = legacy
    chunks = (value[i : i + 12] for i in range(0, len(value), 12))
    return " ".join(f"=?{label}?B?{base64.b64encode(c.encode(codec)).decode()}?=" for c in chunks)


def set_headers(
    msg: Message,
    sender: Customer,
    subject: str,
    date: datetime,
    message_id: str,
    legacy: tuple[str, str] | None,
) -> None:
    """Envelope headers; legacy mails get encoded-words in their own charset."""
    name = encoded_words(sender.name, legacy)
    plain = name == sender.name
    msg["From"] = formataddr((name, sender.address)) if plain else f"{name} <{sender.address}>"
    msg["To"] = f"Support <{SUPPORT}>"
    msg["Subject"] = encoded_words(subject, legacy)
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = message_id


def dsn(earlier: Earlier, rng: Random) -> Message:
    """A multipart/report delivery-status bounce returning the headers of `earlier`."""
    report = MIMEMultipart("report", report_type="delivery-status")
    report.attach(
        MIMEText(
            "This is the mail system at host mx.customer.example.\n\n"
            "I'm sorry to have to inform you that your message could not\n"
            "be delivered to one or more recipients.\n"
        )
    )
    per_message, per_recipient = Message(), Message()
    per_message["Reporting-MTA"] = "dns; mx.customer.example"
    per_recipient["Final-Recipient"] = f"rfc822; {earlier.sender.address}"
    per_recipient["Action"] = "failed"
    per_recipient["Status"] = rng.choice(("5.1.1", "5.2.2", "4.4.7"))
    per_recipient["Diagnostic-Code"] = "smtp; 550 5.1.1 <user>: Recipient address rejected"
    status = Message()
    status["Content-Type"] = "message/delivery-status"
    status.set_payload([per_message, per_recipient])
    report.attach(status)
    returned = (
        f"From: Support <{SUPPORT}>\nTo: {earlier.sender.address}\n"
        f"Subject: Re: {encoded_words(earlier.subject, ('utf-8', 'utf-8'))}\n"
        f"Message-ID: {earlier.message_id}\n"
    )
    report.attach(MIMEText(returned, "rfc822-headers"))
    return report


# --- the generator ------------------------------------------------------------------


class MailGenerator:
    """Seeded stream of support mail; keeps only a bounded window of earlier mails."""

    def __init__(self, seed: int, customers: int) -> None:
        self.rng = Random(seed)
        self.seed = seed
        self.now = START
        self.index = 0
        self.history: deque[Earlier] = deque(maxlen=500)
        self.customers = [self._customer(i) for i in range(customers)]

    def _customer(self, i: int) -> Customer:
        lang = self.rng.choices(("en", "zh", "fr"), (55, 35, 10))[0]
        name = self.rng.choice(NAMES[lang])
        local = f"user{i}" if lang != "en" else name.lower().replace(" ", ".").replace("'", "")
        return Customer(name, f"{local}{i}@{self.rng.choice(DOMAINS)}", lang)

    def mails(self, n: int) -> Iterator[Generated]:
        for _ in range(n):
            self.index += 1
            self.now += timedelta(seconds=self.rng.expovariate(1 / 90))
            yield self._next()

    def _next(self) -> Generated:
        roll = self.rng.random()
        if self.history and roll < 0.25:
            return self._human("follow-up", self.rng.choice(self.history))
        if self.history and roll < 0.27:
            return self._auto_reply(self.rng.choice(self.history))
        if self.history and roll < 0.285:
            return self._bounce(self.rng.choice(self.history))
        return self._human("new", None)

    def _message_id(self, customer: Customer) -> str:
        domain = customer.address.rpartition("@")[2]
        return f"<{self.seed:x}.{self.index:07d}.{self.rng.getrandbits(40):010x}@{domain}>"

    def _human(self, kind: str, earlier: Earlier | None) -> Generated:
        rng = self.rng
        sender = rng.choice(self.customers) if earlier is None else earlier.sender
        tier, text, subject = self._compose(sender, earlier)
        styles, weights = STYLES[sender.lang]
        style = fit_style(rng.choices(styles, weights)[0], text)
        legacy = LEGACY.get(style)
        msg, cte = legacy_body(style, text) if legacy else modern_body(rng, style, text)
        tags = [f"kind={kind}", f"body={style}", f"cte={cte}", f"size={tier}"]
        if rng.random() < 0.12:
            count = rng.choices((1, 2, 3), (70, 25, 5))[0]
            msg = attach(rng, msg, count)
            tags += ["attach=mails"] + ["attach=files"] * count
        message_id = self._message_id(sender)
        set_headers(msg, sender, subject, self.now, message_id, legacy)
        msg["X-Mailer"] = rng.choice(MAILERS)
        references = ""
        if earlier is not None:
            references = f"{earlier.references} {earlier.message_id}".strip()
            msg["In-Reply-To"] = earlier.message_id
            msg["References"] = references
        self._remember(message_id, references, subject, sender, text)
        return Generated(tuple(tags), sender.address, self.now, msg)

    def _compose(self, sender: Customer, earlier: Earlier | None) -> tuple[str, str, str]:
        """(size tier, text, subject); a follow-up quotes the mail it answers."""
        tier, text = body_text(self.rng, sender)
        subjects = {"en": EN_SUBJECTS, "zh": ZH_SUBJECTS, "fr": FR_SUBJECTS}[sender.lang]
        subject = self.rng.choice(subjects)
        if earlier is not None:
            text += quoted(earlier, sender.lang)
            subject = ("回复：" if sender.lang == "zh" else "Re: ") + earlier.subject
        return tier, text, subject

    def _remember(
        self, message_id: str, references: str, subject: str, sender: Customer, text: str
    ) -> None:
        last = " ".join(references.split()[-9:])
        excerpt = text[:400].strip()
        earlier = Earlier(message_id, last, without_prefix(subject), sender, self.now, excerpt)
        self.history.append(earlier)

    def _auto_reply(self, earlier: Earlier) -> Generated:
        sender = earlier.sender
        msg = EmailMessage()
        msg.set_content(
            f"I am out of the office until {self.now + timedelta(days=7):%d %B}.\n"
            "For urgent matters please call +1 555 0100.\n"
        )
        prefix = "自动回复: " if sender.lang == "zh" else "Automatic reply: "
        set_headers(
            msg, sender, prefix + earlier.subject, self.now, self._message_id(sender), None
        )
        msg["In-Reply-To"] = earlier.message_id
        msg["Auto-Submitted"] = "auto-replied"
        msg["X-Auto-Response-Suppress"] = "All"
        return Generated(("kind=auto-reply", "body=utf-8"), sender.address, self.now, msg)

    def _bounce(self, earlier: Earlier) -> Generated:
        msg = dsn(earlier, self.rng)
        daemon = Customer("Mail Delivery System", "MAILER-DAEMON@mx.customer.example", "en")
        set_headers(
            msg,
            daemon,
            "Undelivered Mail Returned to Sender",
            self.now,
            self._message_id(daemon),
            None,
        )
        msg["Return-Path"] = "<>"
        return Generated(("kind=bounce", "body=report"), "MAILER-DAEMON", self.now, msg)


def fix_boundaries(msg: Message, index: int) -> None:
    """Deterministic MIME boundaries (the stdlib draws them from the global random)."""
    for depth, part in enumerate(msg.walk()):
        if part.is_multipart():
            part.set_boundary(f"=_bench_{index}_{depth}")


def write_mbox(path: Path, n: int, seed: int) -> Counter[str]:
    """Stream N generated mails into an mbox file (one in memory at a time); the mix."""
    mix: Counter[str] = Counter()
    generator = MailGenerator(seed, customers=max(50, n // 8))
    with path.open("wb") as out:
        for mail in generator.mails(n):
            fix_boundaries(mail.message, generator.index)
            buffer = BytesIO()
            BytesGenerator(buffer, mangle_from_=True, policy=mail.message.policy).flatten(
                mail.message
            )
            data = buffer.getvalue()
            out.write(f"From {mail.envelope_from} {mail.date:%a %b %d %H:%M:%S %Y}\n".encode())
            out.write(data if data.endswith(b"\n") else data + b"\n")
            out.write(b"\n")
            mix.update(mail.tags)
            mix["bytes"] += len(data)
            if "attach=mails" in mail.tags:
                mix["attach=bytes"] += sum(
                    len(p.get_payload(decode=True) or b"")
                    for p in mail.message.walk()
                    if p.get_filename()
                )
    return mix


# --- the two contenders --------------------------------------------------------------


@dataclass(frozen=True)
class ChildRun:
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


def write_config(work: Path, extra: str = "") -> Path:
    """The bench desk's config; `extra` is appended TOML (poll.py adds [imap])."""
    path = work / "maildesk.toml"
    path.write_text(
        f"""
[desk]
name = "Bench Support"
subject_tag = "[Ticket#{{number}}]"
timezone = "Asia/Shanghai"
default_locale = "en"
secret_env = "MAILDESK_SECRET"

[database]
url = "sqlite:///{work / "desk.db"}"

[smtp]
host = "127.0.0.1"
port = 2525
security = "none"
from_address = "{SUPPORT}"

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
        + extra,
        encoding="utf-8",
    )
    return path


BASELINE_SCHEMA = (
    "CREATE TABLE mails (id INTEGER PRIMARY KEY, message_id TEXT, subject TEXT, raw BLOB NOT NULL)"
)
BASELINE_INSERT = "INSERT INTO mails (message_id, subject, raw) VALUES (?, ?, ?)"


def baseline_worker(mbox: Path, database: Path) -> None:
    """The floor: stdlib parse of each mail plus one INSERT, committed every 100."""
    connection = sqlite3.connect(database)
    connection.execute(BASELINE_SCHEMA)
    box = mailbox.mbox(mbox, factory=None, create=False)
    count = 0
    for key in box.iterkeys():
        raw = box.get_bytes(key)
        msg = email.message_from_bytes(raw, policy=policy.default)
        subject, message_id = msg["subject"], msg["message-id"]
        connection.execute(
            BASELINE_INSERT,
            (str(message_id) if message_id else None, str(subject) if subject else None, raw),
        )
        count += 1
        if count % 100 == 0:
            connection.commit()
    connection.commit()
    connection.close()
    print(f"inserted: {count}")


# --- reporting ------------------------------------------------------------------------


def mix_lines(mix: Counter[str]) -> list[str]:
    groups: dict[str, list[str]] = {}
    for tag, count in sorted(mix.items(), key=lambda item: (-item[1], item[0])):
        group, _, value = tag.partition("=")
        if value and group != "attach":
            groups.setdefault(group, []).append(f"{value} {count}")
    lines = [f"  {group:<5} " + ", ".join(values) for group, values in groups.items()]
    lines.append(
        f"  attachments: {mix['attach=mails']} mails, {mix['attach=files']} files, "
        f"{mix['attach=bytes'] / MIB:.1f} MiB decoded"
    )
    return lines


def report(n: int, mix: Counter[str], gen_seconds: float, desk: ChildRun, base: ChildRun) -> None:
    desk_rate, base_rate = n / desk.seconds, n / base.seconds
    print(f"== N={n}: mbox {mix['bytes'] / MIB:.1f} MiB, generated in {gen_seconds:.1f} s ==")
    print("mix:")
    print("\n".join(mix_lines(mix)))
    for label, run, rate in (("maildesk import", desk, desk_rate), ("baseline", base, base_rate)):
        print(
            f"{label:16} {run.seconds:8.2f} s  {rate:8.1f} msg/s  cpu {run.cpu_seconds:7.2f} s"
            f"  peak RSS {run.peak_rss_mib:7.1f} MiB  | {run.stdout.strip()}"
        )
    print(f"maildesk/baseline rate: {100 * desk_rate / base_rate:.1f} %")
    print(flush=True)


def bench(n: int, seed: int, keep: bool) -> None:
    work = Path(tempfile.mkdtemp(prefix=f"maildesk-bench-{n}-"))
    try:
        mbox = work / "mails.mbox"
        start = time.perf_counter()
        mix = write_mbox(mbox, n, seed)
        gen_seconds = time.perf_counter() - start
        env = dict(os.environ, MAILDESK_SECRET=secrets.token_hex(32))
        maildesk = [sys.executable, "-m", "maildesk", "--config", str(write_config(work))]
        run_child([*maildesk, "init"], env, work, "init")
        desk = run_child([*maildesk, "import", str(mbox)], env, work, "import")
        base = run_child(
            [sys.executable, __file__, "--baseline-worker", str(mbox), str(work / "base.db")],
            env,
            work,
            "baseline",
        )
        report(n, mix, gen_seconds, desk, base)
    finally:
        if keep:
            print(f"kept {work}\n")
        else:
            shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--n",
        action="append",
        type=int,
        metavar="N",
        help="mails to generate (repeatable; default 2000)",
    )
    parser.add_argument("--seed", type=int, default=20261123, help="generator seed")
    parser.add_argument("--keep", action="store_true", help="keep each N's work directory")
    parser.add_argument(
        "--baseline-worker", nargs=2, metavar=("MBOX", "DB"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.baseline_worker:
        baseline_worker(Path(args.baseline_worker[0]), Path(args.baseline_worker[1]))
        return
    for n in args.n or [2000]:
        bench(n, args.seed, args.keep)


if __name__ == "__main__":
    main()
