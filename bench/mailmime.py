"""How the generated support mail is encoded: bodies, charsets, attachments, headers, bounces.

Why a module of its own: the MIME choices (plain, HTML-only and
multipart/alternative; utf-8, gb2312, GBK labelled gb2312 and iso-8859-1; 8bit,
quoted-printable and base64; RFC 2047 words; DSN reports) are what exercise
intake's decoding, and are kept apart from what the mail says (mailtext.py) and
from the sequence of mails (mailgen.py).
"""

import base64
from datetime import datetime
from email import encoders
from email.message import EmailMessage, Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr
from random import Random

from mailtext import Customer, Earlier, log_lines, to_html

SUPPORT = "support@desk.example"
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
    """A utf-8 plain, HTML-only or alternative body in a random transfer encoding."""
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
    """(name, maintype, subtype, data) of one attachment, 2-200 KB."""
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
    """`msg` with `count` attachments; a legacy body goes into a multipart/mixed with gbk names."""
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


def fix_boundaries(msg: Message, index: int) -> None:
    """Deterministic MIME boundaries (the stdlib draws them from the global random)."""
    for depth, part in enumerate(msg.walk()):
        if part.is_multipart():
            part.set_boundary(f"=_bench_{index}_{depth}")
