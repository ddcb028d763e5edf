"""Raw bytes → Incoming: decoded headers, text, HTML and parts. Pure; no I/O.

Parsing is forgiving (the stdlib `email` package with policy.default, our own
RFC 2047/2231 decoding with charset fallbacks, HTML converted by inscriptis)
because customers write from every client there is; anything that still
fails raises and the mail is quarantined by the caller, raw bytes kept.
"""

import base64
import binascii
import email
import mimetypes
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email import errors, policy
from email.message import EmailMessage, Message
from email.utils import getaddresses, parseaddr, parsedate_to_datetime

from inscriptis import get_text
from tnefparse import TNEF

from maildesk.charsets import decode_bytes

_MSGID = re.compile(r"<[^<>\s]+>")
_WORD = re.compile(r"=\?([^?\s]+)\?([bq])\?([^?]*)\?=", re.I)
_QP_BYTE = re.compile(rb"=([0-9a-f]{2})", re.I)
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_BOUNDARY_LINE = re.compile(rb"^--([^\s-][^\r\n]{0,69}?)\s*$", re.M)
_HEAD_END = re.compile(rb"\r?\n\r?\n")
_CONTENT_TYPE = re.compile(rb"^content-type:[^\r\n]*(\r?\n[ \t][^\r\n]*)*", re.I | re.M)
_META_CHARSET = re.compile(rb"<meta[^>]{0,200}?charset=[\"']?([\w.:-]+)", re.I)
_NOT_BASE64 = re.compile(rb"[^A-Za-z0-9+/]")
_BASE64_DEFECTS = {
    errors.InvalidBase64CharactersDefect,
    errors.InvalidBase64PaddingDefect,
    errors.InvalidBase64LengthDefect,
}
_TNEF_TYPES = ("application/ms-tnef", "application/vnd.ms-tnef")


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


@dataclass
class _Body:
    """What the body walk collects: text, HTML and the parts that are files."""

    text: str = ""
    html: str | None = None
    parts: list[Part] = field(default_factory=list)


def parse(raw: bytes) -> Incoming:
    """Parse one RFC 5322 message; raises ValueError when it is not a mail at all."""
    msg = _message(raw)
    raw_headers = _raw_headers(msg)
    headers = {
        name: tuple(decode_header(v) for v in values) for name, values in raw_headers.items()
    }
    from_name, from_addr = _sender(raw_headers)
    body = _body(msg)
    return Incoming(
        message_id=next(iter(_ids(_first(headers, "message-id"))), None),
        in_reply_to=_ids(_first(headers, "in-reply-to")),
        references=_ids(" ".join(headers.get("references", ()))),
        from_addr=from_addr,
        from_name=from_name,
        to=_addresses(raw_headers.get("to", ())),
        cc=_addresses(raw_headers.get("cc", ())),
        subject=" ".join(_first(headers, "subject").split()),
        date=_date(_first(headers, "date")),
        text=_normalise_newlines(body.text),
        html=body.html,
        content_type=msg.get_content_type(),
        headers=headers,
        parts=tuple(body.parts),
        returned=_returned(msg),
    )


def _message(raw: bytes) -> EmailMessage:
    """The parsed message; a multipart whose boundary is missing or wrong is re-cut."""
    msg = email.message_from_bytes(raw, policy=policy.default)
    if not isinstance(msg, EmailMessage) or not msg.keys():
        raise ValueError("no headers found: not an email message")
    if msg.get_content_maintype() == "multipart" and not msg.is_multipart():
        repaired = _with_found_boundary(raw)
        if repaired is not None:
            return email.message_from_bytes(repaired, policy=policy.default)
    return msg


def _with_found_boundary(raw: bytes) -> bytes | None:
    """Clients that mangle the boundary parameter still write `--boundary` lines; use them."""
    head_end = _HEAD_END.search(raw)
    if head_end is None:
        return None
    head, body = raw[: head_end.start()], raw[head_end.start() :]
    found = _BOUNDARY_LINE.search(body)
    if found is None or b'"' in found[1]:
        return None
    boundary = found[1].removesuffix(b"--")
    content_type = b'Content-Type: multipart/mixed; boundary="' + boundary + b'"'
    return _CONTENT_TYPE.sub(lambda _m: content_type, head, count=1) + body


def _raw_headers(msg: Message) -> dict[str, list[str]]:
    """Header values as written, unfolded; names lower-cased."""
    found: dict[str, list[str]] = {}
    for name, value in msg.raw_items():
        found.setdefault(name.lower(), []).append(_FOLD.sub("", str(value)))
    return found


def decode_header(value: str) -> str:
    """RFC 2047 words decoded, raw 8-bit bytes detected; never raises.

    Adjacent words in one charset are joined as bytes before decoding, so a
    character that a client split across two words survives; a word that
    cannot be decoded stays as written.
    """
    pieces: list[tuple[str | None, bytes | str]] = []
    position = 0
    for word in _WORD.finditer(value):
        gap = value[position : word.start()]
        if gap and not (gap.isspace() and pieces and pieces[-1][0] is not None):
            pieces.append((None, gap))
        charset = word[1].partition("*")[0].lower()
        data = _word_bytes(word[2], word[3])
        if data is None:
            pieces.append((None, word[0]))
        elif pieces and pieces[-1][0] == charset:
            pieces[-1] = (charset, pieces[-1][1] + data)
        else:
            pieces.append((charset, data))
        position = word.end()
    pieces.append((None, value[position:]))
    return "".join(
        _undo_surrogates(piece) if charset is None else decode_bytes(piece, charset)
        for charset, piece in pieces
    )


def _word_bytes(encoding: str, text: str) -> bytes | None:
    if encoding.lower() == "b":
        compact = re.sub(r"[^A-Za-z0-9+/]", "", text)
        try:
            return base64.b64decode(compact + "=" * (-len(compact) % 4)) if compact else None
        except (binascii.Error, ValueError):
            return None
    data = text.replace("_", " ").encode("utf-8", "surrogateescape")
    return _QP_BYTE.sub(lambda m: bytes([int(m[1], 16)]), data)


def _undo_surrogates(text: str) -> str:
    """Raw 8-bit header bytes arrive as surrogates; decode them by detection."""
    if not any("\udc80" <= ch <= "\udcff" for ch in text):
        return text
    return decode_bytes(text.encode("utf-8", "surrogateescape"), None)


def _first(headers: dict[str, tuple[str, ...]], name: str) -> str:
    values = headers.get(name)
    return values[0] if values else ""


def _sender(raw_headers: dict[str, list[str]]) -> tuple[str, str]:
    """(display name, address) from From, else Sender or Return-Path.

    The address is split off the raw value first: a decoded display name may
    contain commas or brackets that would confuse the address parser.
    """
    for name in ("from", "sender", "return-path"):
        values = raw_headers.get(name)
        if values:
            display, address = parseaddr(values[0])
            if "@" in address:
                return decode_header(display).strip(), _undo_surrogates(address).strip().lower()
    return "", ""


def _ids(value: str) -> tuple[str, ...]:
    return tuple(_MSGID.findall(value))


def _addresses(values: list[str]) -> tuple[str, ...]:
    found = getaddresses([_undo_surrogates(v) for v in values])
    return tuple(addr.lower() for _name, addr in found if "@" in addr)


def _date(value: str) -> datetime | None:
    try:
        return parsedate_to_datetime(value) if value else None
    except (TypeError, ValueError, IndexError):
        return None


def _part_text(part: Message) -> str:
    """Decode a text part by its declared charset, with fallbacks for wrong labels."""
    payload = _decoded(part)
    charset = _declared_charset(part)
    if charset is None and part.get_content_subtype() == "html":
        meta = _META_CHARSET.search(payload[:4096])
        charset = meta[1].decode("ascii") if meta else None
    return decode_bytes(payload, charset)


def _decoded(part: Message) -> bytes:
    """The bytes under the transfer encoding; base64 the stdlib gives up on goes line by line."""
    try:
        payload = part.get_payload(decode=True)
    except (LookupError, ValueError, AssertionError):
        payload = None
    if payload is None:
        return _payload_bytes(part)
    damage = {type(defect) for defect in part.defects} & _BASE64_DEFECTS
    if not damage:
        return payload
    by_line = b"".join(_lenient_base64(line) for line in _payload_bytes(part).splitlines())
    if errors.InvalidBase64LengthDefect in damage:
        return by_line
    return max(payload, by_line, key=len)


def _lenient_base64(line: bytes) -> bytes:
    """One line of damaged base64: junk dropped, padding restored, a stray last char ignored."""
    compact = _NOT_BASE64.sub(b"", line)
    compact = compact[: len(compact) - (len(compact) % 4 == 1)]
    return base64.b64decode(compact + b"=" * (-len(compact) % 4))


def _payload_bytes(part: Message) -> bytes:
    payload = part.get_payload()
    if isinstance(payload, str):
        return payload.encode("utf-8", "surrogateescape")
    return b""


def _declared_charset(part: Message) -> str | None:
    try:
        return part.get_content_charset()
    except (LookupError, ValueError):
        return None


def _html_to_text(html: str) -> str:
    """Readable text from HTML-only mail (inscriptis keeps layout, drops markup)."""
    return get_text(html).strip()


def _body(msg: EmailMessage) -> _Body:
    """Text (text/plain preferred, else from HTML), HTML kept, the rest as files."""
    plain = _find_body(msg, "plain")
    html_part = _find_body(msg, "html")
    body = _Body()
    body.html = _part_text(html_part) if html_part is not None else None
    if plain is not None:
        body.text = _part_text(plain)
    if not body.text.strip() and body.html is not None:
        body.text = _html_to_text(body.html)
    if plain is None and html_part is None and msg.get_content_maintype() in ("multipart", "text"):
        body.text = _part_text(msg)
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
    data = _message_bytes(part) if attached_mail else _decoded(part)
    return Part(
        filename=_filename(part) or _attached_name(part),
        content_type=part.get_content_type(),
        data=data,
        inline=part.get_content_disposition() == "inline",
    )


def _message_bytes(part: Message) -> bytes:
    """An attached mail as a file; one too broken to re-serialise keeps its text form."""
    inner = _inner_message(part)
    if inner is None:
        return _payload_bytes(part)
    try:
        return inner.as_bytes()
    except (LookupError, ValueError, UnicodeError, TypeError):
        return inner.as_string(policy=policy.compat32).encode("utf-8", "surrogateescape")


def _filename(part: Message) -> str:
    """The attachment's name from the raw parameters (RFC 2231, RFC 2047 or raw 8-bit).

    The stdlib decodes these with the declared codec only, which garbles
    GBK names labelled gb2312; ours goes through decode_bytes.
    """
    raw = _raw_headers(part)
    legacy = Message()
    for name in ("content-disposition", "content-type"):
        if name in raw:
            legacy[name] = _as_latin1(raw[name][0])
    value = legacy.get_param("filename", header="content-disposition") or legacy.get_param(
        "name", header="content-type"
    )
    if isinstance(value, tuple):
        charset, _language, text = value
        return decode_bytes(text.encode("raw-unicode-escape"), charset or None).strip()
    if not isinstance(value, str):
        return ""
    return decode_header(value.encode("latin-1").decode("utf-8", "surrogateescape")).strip()


def _as_latin1(value: str) -> str:
    """Raw 8-bit bytes as one character each, which the legacy parameter parser keeps intact."""
    return value.encode("utf-8", "surrogateescape").decode("latin-1")


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
    try:
        tnef = TNEF(data, do_checksum=False)
    except (ValueError, IndexError, KeyError, UnicodeError, TypeError):
        return
    if not body.text.strip():
        body.text = _tnef_text(tnef)
    for attachment in tnef.attachments:
        name = attachment.long_filename() or attachment.name
        body.parts.append(
            Part(filename=name, content_type=_guess_type(name), data=attachment.data)
        )


def _tnef_text(tnef: TNEF) -> str:
    codepage = tnef.codepage
    if tnef.body:
        return _as_text(tnef.body, codepage).rstrip("\x00")
    if tnef.htmlbody:
        return _html_to_text(_as_text(tnef.htmlbody, codepage))
    return ""


def _as_text(value: bytes | str, codepage: str | None) -> str:
    return value if isinstance(value, str) else decode_bytes(value, codepage)


def _guess_type(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


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
            return _returned_from(email.message_from_bytes(payload, policy=policy.default))
    return None


def _returned_from(inner: Message) -> Returned:
    raw = _raw_headers(inner)
    headers = {name: decode_header(values[0]) for name, values in raw.items()}
    return Returned(
        message_id=next(iter(_ids(headers.get("message-id", ""))), None),
        subject=" ".join(headers.get("subject", "").split()),
        references=_ids(headers.get("references", "")),
    )


def _normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")
