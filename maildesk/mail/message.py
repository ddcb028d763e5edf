"""Raw bytes → Incoming: decoded headers, text, HTML and parts. Pure; no I/O.

Parsing is forgiving (the stdlib `email` package, our own
RFC 2047/2231 decoding with charset fallbacks, HTML converted by inscriptis)
because customers write from every client there is; anything that still
fails raises and the mail is quarantined by the caller, raw bytes kept.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.message import EmailMessage, Message
from email.utils import getaddresses, parsedate_to_datetime

from maildesk.mail import dsn, mime, tnef
from maildesk.mail.headers import (
    attachment_filename,
    decode_header,
    raw_headers,
    sender,
    undo_surrogates,
)
from maildesk.mail.payloads import decoded, html_to_text, part_text, payload_bytes
from maildesk.mail.quotes import strip_quotes

_MSGID = re.compile(r"<[^<>\s]+>")
_TNEF_TYPES = ("application/ms-tnef", "application/vnd.ms-tnef")


@dataclass(frozen=True)
class Part:
    """A non-body MIME part: attachment or inline image."""

    filename: str
    content_type: str
    data: bytes
    inline: bool = False
    content_id: str | None = None


@dataclass(frozen=True)
class Returned:
    """Headers of the message a bounce returns (message/rfc822 or text/rfc822-headers)."""

    message_id: str | None
    subject: str
    references: tuple[str, ...]


@dataclass(frozen=True)
class Incoming:
    """Everything maildesk reads from one mail, already decoded to text."""

    message_id: str | None
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    from_addr: str
    from_name: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    subject: str
    date: datetime | None
    text: str
    new_text: str  # without quoted history and signature: parsed here, off the main process
    html: str | None
    content_type: str
    headers: dict[str, tuple[str, ...]] = field(repr=False)
    parts: tuple[Part, ...] = ()
    returned: Returned | None = None
    reports: tuple[dsn.Report, ...] = ()  # a bounce's per-recipient delivery reports

    def header(self, name: str) -> str:
        """First value of header `name` (case-insensitive), or ''."""
        values = self.headers.get(name.lower())
        return values[0] if values else ""

    def has(self, name: str) -> bool:
        return name.lower() in self.headers


@dataclass
class _Body:
    """What the body walk collects: text, HTML and the parts that are files."""

    text: str = ""
    html: str | None = None
    parts: list[Part] = field(default_factory=list)


def parse(raw: bytes) -> Incoming:
    """Parse one RFC 5322 message; raises ValueError when it is not a mail at all."""
    msg = mime.read(raw)
    written = raw_headers(msg)
    headers = {name: tuple(decode_header(v) for v in values) for name, values in written.items()}
    from_name, from_addr = sender(written)
    body = _body(msg)
    text = _normalise_newlines(body.text)
    return Incoming(
        message_id=next(iter(_ids(_first(headers, "message-id"))), None),
        in_reply_to=_ids(_first(headers, "in-reply-to")),
        references=_ids(" ".join(headers.get("references", ()))),
        from_addr=from_addr,
        from_name=from_name,
        to=_addresses(written.get("to", ())),
        cc=_addresses(written.get("cc", ())),
        subject=" ".join(_first(headers, "subject").split()),
        date=_date(_first(headers, "date")),
        text=text,
        new_text=strip_quotes(text),
        html=body.html,
        content_type=msg.get_content_type(),
        headers=headers,
        parts=tuple(body.parts),
        returned=_returned(msg),
        reports=dsn.reports(msg),
    )


def _first(headers: dict[str, tuple[str, ...]], name: str) -> str:
    values = headers.get(name)
    return values[0] if values else ""


def _ids(value: str) -> tuple[str, ...]:
    return tuple(_MSGID.findall(value))


def _addresses(values: list[str]) -> tuple[str, ...]:
    found = getaddresses([undo_surrogates(v) for v in values])
    return tuple(addr.lower() for _name, addr in found if "@" in addr)


def _date(value: str) -> datetime | None:
    try:
        return parsedate_to_datetime(value) if value else None
    except (TypeError, ValueError, IndexError):
        return None


def _body(msg: EmailMessage) -> _Body:
    """Text (text/plain preferred, else from HTML), HTML kept, the rest as files."""
    plain = _find_body(msg, "plain")
    html_part = _find_body(msg, "html")
    body = _Body()
    body.html = part_text(html_part) if html_part is not None else None
    if plain is not None:
        body.text = part_text(plain)
    if not body.text.strip() and body.html is not None:
        body.text = html_to_text(body.html)
    if plain is None and html_part is None and msg.get_content_maintype() in ("multipart", "text"):
        body.text = part_text(msg)
    bodies = {id(p) for p in (plain, html_part) if p is not None}
    report = msg.get_content_type() == "multipart/report"
    for leaf in _leaves(msg):
        if id(leaf) not in bodies:
            _take_leaf(leaf, body, report)
    return body


def _take_leaf(leaf: Message, body: _Body, report: bool) -> None:
    """A non-body part: stored as a file; TNEF and attached mail also give their text."""
    part = _part(leaf)
    if part is None:
        return
    body.parts.append(part)
    if part.content_type in _TNEF_TYPES or part.filename.lower() == "winmail.dat":
        _add_tnef(part.data, body)
    elif part.content_type == "message/rfc822" and not report:
        _add_attached_message(leaf, body)


def _find_body(msg: EmailMessage, subtype: str) -> EmailMessage | None:
    try:
        return msg.get_body(preferencelist=(subtype,))
    except (KeyError, AttributeError, TypeError, LookupError, ValueError):
        return None


def _leaves(msg: Message) -> Iterator[Message]:
    """Leaf parts, not descending into attached messages (those stay one part)."""
    if msg.get_content_maintype() == "message" or not msg.is_multipart():
        yield msg
        return
    for sub in msg.get_payload():
        if isinstance(sub, Message):
            yield from _leaves(sub)


def _part(part: Message) -> Part | None:
    if part.get_content_maintype() == "multipart":
        return None
    attached_mail = part.get_content_maintype() == "message"
    data = _message_bytes(part) if attached_mail else decoded(part)
    return Part(
        filename=attachment_filename(part) or _attached_name(part),
        content_type=part.get_content_type(),
        data=data,
        inline=part.get_content_disposition() == "inline",
        content_id=_content_id(part),
    )


def _content_id(part: Message) -> str | None:
    """The id an HTML body uses to show this part (`cid:...`), without brackets."""
    value = " ".join(str(part.get("content-id", "")).split()).strip("<>")
    return value or None


def _message_bytes(part: Message) -> bytes:
    """An attached mail as a file; one too broken to re-serialise keeps its text form."""
    inner = _inner_message(part)
    if inner is None:
        return payload_bytes(part)
    try:
        return inner.as_bytes()
    except (LookupError, ValueError, UnicodeError, TypeError):
        return inner.as_string(policy=policy.compat32).encode("utf-8", "surrogateescape")


def _attached_name(part: Message) -> str:
    """Attached mail carries no file name; name it after its subject."""
    inner = _inner_message(part)
    if inner is None:
        return ""
    subject = " ".join(decode_header(str(inner.get("subject", ""))).split())
    return f"{subject or 'message'}.eml"


def _inner_message(part: Message) -> Message | None:
    inner = part.get_payload()
    if isinstance(inner, list) and inner and isinstance(inner[0], Message):
        return inner[0]
    return None


def _add_attached_message(part: Message, body: _Body) -> None:
    """Forwarded-as-attachment mail: its text joins ours, under its own header lines."""
    inner = _inner_message(part)
    if not isinstance(inner, EmailMessage):
        return
    inner_body = _body(inner)
    header = "\n".join(
        f"{label}: {' '.join(decode_header(str(inner.get(label, ''))).split())}"
        for label in ("From", "Date", "Subject")
    )
    body.text = f"{body.text.rstrip()}\n\n[{header}]\n\n{inner_body.text.strip()}".strip()


def _add_tnef(data: bytes, body: _Body) -> None:
    """winmail.dat: its body becomes our text when we have none; its files become parts."""
    unpacked = tnef.unpack(data)
    if unpacked is None:
        return
    if not body.text.strip():
        body.text = unpacked.text
    for name, content_type, content in unpacked.files:
        body.parts.append(Part(filename=name, content_type=content_type, data=content))


def _returned(msg: EmailMessage) -> Returned | None:
    """For a delivery report: the headers of the message that bounced."""
    if msg.get_content_type() != "multipart/report":
        return None
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype == "message/rfc822":
            inner = _inner_message(part)
            if inner is not None:
                return _returned_from(inner)
        if ctype == "text/rfc822-headers":
            payload = part.get_payload(decode=True) or b""
            return _returned_from(mime.from_bytes(payload))
    return None


def _returned_from(inner: Message) -> Returned:
    raw = raw_headers(inner)
    headers = {name: decode_header(values[0]) for name, values in raw.items()}
    return Returned(
        message_id=next(iter(_ids(headers.get("message-id", ""))), None),
        subject=" ".join(headers.get("subject", "").split()),
        references=_ids(headers.get("references", "")),
    )


def _normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")
