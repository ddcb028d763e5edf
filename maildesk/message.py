"""Raw bytes → Incoming: decoded headers, text, HTML and parts. Pure; no I/O.

Parsing is forgiving (the stdlib `email` package with policy.default, charset
fallbacks, HTML converted by inscriptis) because customers write from every
client there is; anything that still fails raises and the mail is quarantined
by the caller, raw bytes kept.
"""

import email
import re
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr, parsedate_to_datetime

from inscriptis import get_text

from maildesk.charsets import decode_bytes

_MSGID = re.compile(r"<[^<>\s]+>")


@dataclass(frozen=True)
class Part:
    """A non-body MIME part: attachment or inline image."""

    filename: str
    content_type: str
    data: bytes
    inline: bool = False


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
    html: str | None
    content_type: str
    headers: dict[str, tuple[str, ...]] = field(repr=False)
    parts: tuple[Part, ...] = ()
    returned: Returned | None = None

    def header(self, name: str) -> str:
        """First value of header `name` (case-insensitive), or ''."""
        values = self.headers.get(name.lower())
        return values[0] if values else ""

    def has(self, name: str) -> bool:
        return name.lower() in self.headers


def parse(raw: bytes) -> Incoming:
    """Parse one RFC 5322 message; raises ValueError when it is not a mail at all."""
    msg = email.message_from_bytes(raw, policy=policy.default)
    if not isinstance(msg, EmailMessage) or not msg.keys():
        raise ValueError("no headers found: not an email message")
    headers = _headers(msg)
    from_name, from_addr = parseaddr(_first(headers, "from"))
    if "@" not in from_addr:
        from_name, from_addr = parseaddr(
            _first(headers, "sender") or _first(headers, "return-path")
        )
    text, html, parts = _body(msg)
    return Incoming(
        message_id=next(iter(_ids(_first(headers, "message-id"))), None),
        in_reply_to=_ids(_first(headers, "in-reply-to")),
        references=_ids(" ".join(headers.get("references", ()))),
        from_addr=from_addr.strip().lower(),
        from_name=from_name.strip(),
        to=_addresses(headers.get("to", ())),
        cc=_addresses(headers.get("cc", ())),
        subject=" ".join(_first(headers, "subject").split()),
        date=_date(_first(headers, "date")),
        text=text,
        html=html,
        content_type=msg.get_content_type(),
        headers=headers,
        parts=tuple(parts),
        returned=_returned(msg),
    )


def _headers(msg: EmailMessage) -> dict[str, tuple[str, ...]]:
    """All headers, names lower-cased, values decoded; broken encodings degrade, never raise."""
    found: dict[str, list[str]] = {}
    for name, value in msg.raw_items():
        found.setdefault(name.lower(), []).append(_decode_header(value))
    return {name: tuple(values) for name, values in found.items()}


def _decode_header(value: object) -> str:
    text = str(value)
    if "=?" not in text:
        return _undo_surrogates(text)
    try:
        return str(make_header(decode_header(text)))
    except (LookupError, ValueError, UnicodeError):
        return _undo_surrogates(text)


def _undo_surrogates(text: str) -> str:
    """Raw 8-bit header bytes arrive as surrogates; decode them by detection."""
    if not any("\udc80" <= ch <= "\udcff" for ch in text):
        return text
    return decode_bytes(text.encode("utf-8", "surrogateescape"), None)


def _first(headers: dict[str, tuple[str, ...]], name: str) -> str:
    values = headers.get(name)
    return values[0] if values else ""


def _ids(value: str) -> tuple[str, ...]:
    return tuple(_MSGID.findall(value))


def _addresses(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(addr.lower() for _name, addr in getaddresses(list(values)) if "@" in addr)


def _date(value: str) -> datetime | None:
    try:
        return parsedate_to_datetime(value) if value else None
    except (TypeError, ValueError, IndexError):
        return None


def part_text(part: EmailMessage) -> str:
    """Decode a text part by its declared charset, with fallbacks for wrong labels."""
    payload = part.get_payload(decode=True)
    if payload is None:
        return ""
    if isinstance(payload, str):
        return payload
    return decode_bytes(payload, part.get_content_charset())


def html_to_text(html: str) -> str:
    """Readable text from HTML-only mail (inscriptis keeps layout, drops markup)."""
    return get_text(html).strip()


def _body(msg: EmailMessage) -> tuple[str, str | None, list[Part]]:
    plain = _find_body(msg, "plain")
    html_part = _find_body(msg, "html")
    html = part_text(html_part) if html_part is not None else None
    if plain is not None:
        text = part_text(plain)
    elif html is not None:
        text = html_to_text(html)
    else:
        text = ""
    bodies = {id(p) for p in (plain, html_part) if p is not None}
    parts = [_part(p) for p in _leaves(msg) if id(p) not in bodies]
    return _normalise_newlines(text), html, [p for p in parts if p is not None]


def _find_body(msg: EmailMessage, subtype: str) -> EmailMessage | None:
    try:
        return msg.get_body(preferencelist=(subtype,))
    except (KeyError, AttributeError, TypeError):
        return None


def _leaves(msg: EmailMessage):
    """Leaf parts, not descending into attached messages (those stay one part)."""
    if msg.get_content_maintype() == "message" or not msg.is_multipart():
        yield msg
        return
    for sub in msg.iter_parts():
        yield from _leaves(sub)


def _part(part: EmailMessage) -> Part | None:
    if part.get_content_maintype() == "multipart":
        return None
    if part.get_content_maintype() == "message":
        inner = part.get_payload()
        data = inner[0].as_bytes() if isinstance(inner, list) and inner else b""
    else:
        data = part.get_payload(decode=True) or b""
    try:
        filename = part.get_filename() or ""
    except (LookupError, ValueError, UnicodeError):
        filename = ""
    return Part(
        filename=_decode_header(filename) if filename else "",
        content_type=part.get_content_type(),
        data=data,
        inline=part.get_content_disposition() == "inline",
    )


def _returned(msg: EmailMessage) -> Returned | None:
    """For a delivery report: the headers of the message that bounced."""
    if msg.get_content_type() != "multipart/report":
        return None
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype == "message/rfc822":
            inner = part.get_payload()
            if isinstance(inner, list) and inner:
                return _returned_from(inner[0])
        if ctype == "text/rfc822-headers":
            payload = part.get_payload(decode=True) or b""
            return _returned_from(email.message_from_bytes(payload, policy=policy.default))
    return None


def _returned_from(inner: EmailMessage) -> Returned:
    return Returned(
        message_id=next(iter(_ids(_decode_header(inner.get("message-id", "")))), None),
        subject=_decode_header(inner.get("subject", "")),
        references=_ids(_decode_header(inner.get("references", ""))),
    )


def _normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")
