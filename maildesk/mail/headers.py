"""Header values as text: RFC 2047 encoded words, RFC 2231 parameters, raw 8-bit bytes.

The stdlib decodes each encoded word with its declared codec only, which
garbles GBK text labelled gb2312 and characters split across two words;
these helpers decode through maildesk.charsets and never raise.
"""

import base64
import binascii
import re
from email.message import Message
from email.utils import getaddresses

from maildesk.mail.charsets import decode_bytes

_WORD = re.compile(r"=\?([^?\s]+)\?([bq])\?([^?]*)\?=", re.I)
_QP_BYTE = re.compile(rb"=([0-9a-f]{2})", re.I)
_FOLD = re.compile(r"\r?\n(?=[ \t])")
ADDRESS_COLUMN = 320  # the tables' String(320) address columns


def raw_headers(msg: Message) -> dict[str, list[str]]:
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
    # Text as written (no charset), or a charset's words joined as bytes.
    pieces: list[tuple[None, str] | tuple[str, bytes]] = []
    position = 0
    for word in _WORD.finditer(value):
        gap = value[position : word.start()]
        if gap and not (gap.isspace() and pieces and pieces[-1][0] is not None):
            pieces.append((None, gap))
        charset = word[1].partition("*")[0].lower()
        data = _word_bytes(word[2], word[3])
        if data is None:
            pieces.append((None, word[0]))
        elif pieces and (last := pieces[-1])[0] is not None and last[0] == charset:
            pieces[-1] = (charset, last[1] + data)
        else:
            pieces.append((charset, data))
        position = word.end()
    pieces.append((None, value[position:]))
    return "".join(
        undo_surrogates(piece[1]) if piece[0] is None else decode_bytes(piece[1], piece[0])
        for piece in pieces
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


def undo_surrogates(text: str) -> str:
    """Raw 8-bit header bytes arrive as surrogates; decode them by detection."""
    if not any("\udc80" <= ch <= "\udcff" for ch in text):
        return text
    return decode_bytes(text.encode("utf-8", "surrogateescape"), None)


def sender(written: dict[str, list[str]]) -> tuple[str, str]:
    """(display name, address) from From, else Sender or Return-Path.

    The address is split off the raw value first: a decoded display name may
    contain commas or brackets that would confuse the address parser. A header
    holding more than one address gives them all, comma-separated, so that
    addresses.deliverable refuses them rather than one of them being picked;
    the result is cut to the length an address column holds (ADDRESS_COLUMN),
    which an address we would deliver to never reaches.
    """
    for name in ("from", "sender", "return-path"):
        found = [pair for pair in getaddresses(written.get(name, [])) if "@" in pair[1]]
        if found:
            names = [decode_header(display).strip() for display, _address in found]
            addresses = [undo_surrogates(address).strip().lower() for _display, address in found]
            return ", ".join(filter(None, names)), ", ".join(addresses)[:ADDRESS_COLUMN]
    return "", ""


def attachment_filename(part: Message) -> str:
    """The attachment's name from the raw parameters (RFC 2231, RFC 2047 or raw 8-bit).

    The stdlib decodes these with the declared codec only, which garbles
    GBK names labelled gb2312; ours goes through decode_bytes.
    """
    raw = raw_headers(part)
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
