"""Raw bytes → Incoming: decoded headers, text, HTML and parts. Pure; no I/O.

Parsing is forgiving (the stdlib `email` package, our own
RFC 2047/2231 decoding with charset fallbacks, HTML converted by inscriptis)
because customers write from every client there is; anything that still
fails raises and the mail is quarantined by the caller, raw bytes kept.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage, Message
from email.utils import getaddresses, parsedate_to_datetime

from maildesk.mail import dsn, mime
from maildesk.mail.body import join, read_body
from maildesk.mail.forwards import is_forward
from maildesk.mail.headers import decode_header, raw_headers, sender, undo_surrogates
from maildesk.mail.parts import Part, inner_message
from maildesk.mail.quotes import strip_quotes

_MSGID = re.compile(r"<[^<>\s]+>")


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


def parse(raw: bytes) -> Incoming:
    """Parse one RFC 5322 message; raises ValueError when it is not a mail at all."""
    msg = mime.read(raw)
    written = raw_headers(msg)
    headers = {name: tuple(decode_header(v) for v in values) for name, values in written.items()}
    from_name, from_addr = sender(written)
    subject = " ".join(_first(headers, "subject").split())
    body = read_body(msg)
    own = _normalise_newlines(body.text)
    forwarded = [_normalise_newlines(block) for block in body.forwards]
    return Incoming(
        message_id=next(iter(_ids(_first(headers, "message-id"))), None),
        in_reply_to=_ids(_first(headers, "in-reply-to")),
        references=_ids(" ".join(headers.get("references", ()))),
        from_addr=from_addr,
        from_name=from_name,
        to=_addresses(written.get("to", ())),
        cc=_addresses(written.get("cc", ())),
        subject=subject,
        date=_date(_first(headers, "date")),
        text=join([own, *forwarded]),
        new_text=join([strip_quotes(own, is_forward(subject)), *forwarded]),
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


def _addresses(values: Sequence[str]) -> tuple[str, ...]:
    found = getaddresses([undo_surrogates(v) for v in values])
    return tuple(addr.lower() for _name, addr in found if "@" in addr)


def _date(value: str) -> datetime | None:
    try:
        return parsedate_to_datetime(value) if value else None
    except (TypeError, ValueError, IndexError):
        return None


def _returned(msg: EmailMessage) -> Returned | None:
    """For a delivery report: the headers of the message that bounced."""
    if msg.get_content_type() != "multipart/report":
        return None
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype == "message/rfc822":
            inner = inner_message(part)
            if inner is not None:
                return _returned_from(inner)
        if ctype == "text/rfc822-headers":
            payload = part.get_payload(decode=True)  # bytes, as the part is no multipart
            return _returned_from(mime.from_bytes(payload if isinstance(payload, bytes) else b""))
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
