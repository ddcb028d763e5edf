"""The bytes and text inside a MIME part: transfer encodings undone, charsets decoded.

Damaged base64 is decoded line by line rather than dropped, an HTML part
without a declared charset uses its <meta> charset, and HTML becomes
readable text through inscriptis (never by stripping tags with regexes).
"""

import base64
import binascii
import re
from email import errors
from email.message import Message

from inscriptis import get_text

from maildesk.mail.charsets import decode_bytes

_META_CHARSET = re.compile(rb"<meta[^>]{0,200}?charset=[\"']?([\w.:-]+)", re.I)
_NOT_BASE64 = re.compile(rb"[^A-Za-z0-9+/]")
_NOT_BASE64_OR_NEWLINE = re.compile(rb"[^A-Za-z0-9+/=\r\n]")
_BASE64_DEFECTS = {
    errors.InvalidBase64CharactersDefect,
    errors.InvalidBase64PaddingDefect,
    errors.InvalidBase64LengthDefect,
}


def part_text(part: Message) -> str:
    """Decode a text part by its declared charset, with fallbacks for wrong labels."""
    payload = decoded(part)
    charset = _declared_charset(part)
    if charset is None and part.get_content_subtype() == "html":
        meta = _META_CHARSET.search(payload[:4096])
        charset = meta[1].decode("ascii") if meta else None
    return decode_bytes(payload, charset)


def decoded(part: Message) -> bytes:
    """The bytes under the transfer encoding; base64 the stdlib gives up on goes line by line."""
    clean = _clean_base64(part)
    if clean is not None:
        return clean
    try:
        payload = part.get_payload(decode=True)
    except (LookupError, ValueError, AssertionError):
        payload = None
    if not isinstance(payload, bytes):  # None: a multipart, or a decoding that failed
        return payload_bytes(part)
    damage = {type(defect) for defect in part.defects} & _BASE64_DEFECTS
    if not damage:
        return payload
    by_line = b"".join(_lenient_base64(line) for line in payload_bytes(part).splitlines())
    if errors.InvalidBase64LengthDefect in damage:
        return by_line
    return max(payload, by_line, key=len)


def _clean_base64(part: Message) -> bytes | None:
    """Undamaged base64 decoded in one pass; None for anything else.

    The stdlib splits the body into a list of lines and joins them before
    decoding: three more copies of an attachment, most of a large mail's peak
    memory (bench/big_mail.py). For base64 with nothing wrong in it the result
    is the same bytes.
    """
    if str(part.get("content-transfer-encoding", "")).strip().lower() != "base64":
        return None
    payload = part.get_payload()
    if not isinstance(payload, str) or not payload.isascii():
        return None
    data = payload.encode("ascii")
    alphabet = len(data) - data.count(b"\n") - data.count(b"\r")
    if alphabet % 4 or _NOT_BASE64_OR_NEWLINE.search(data) or b"=" in data.rstrip(b"=\r\n"):
        return None
    try:
        return binascii.a2b_base64(data)
    except binascii.Error:
        return None


def _lenient_base64(line: bytes) -> bytes:
    """One line of damaged base64: junk dropped, padding restored, a stray last char ignored."""
    compact = _NOT_BASE64.sub(b"", line)
    compact = compact[: len(compact) - (len(compact) % 4 == 1)]
    return base64.b64decode(compact + b"=" * (-len(compact) % 4))


def payload_bytes(part: Message) -> bytes:
    payload = part.get_payload()
    if isinstance(payload, str):
        return payload.encode("utf-8", "surrogateescape")
    return b""


def _declared_charset(part: Message) -> str | None:
    try:
        return part.get_content_charset()
    except (LookupError, ValueError):
        return None


def html_to_text(html: str) -> str:
    """Readable text from HTML-only mail (inscriptis keeps layout, drops markup)."""
    return get_text(html).strip()
