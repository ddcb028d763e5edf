"""winmail.dat (TNEF) from Outlook: its body text and the files packed inside it.

The body is plain text, HTML, or (Outlook's "Rich Text" format) compressed
RTF, which tnefparse decompresses with compressed_rtf and striprtf reads.

tnefparse trusts the counts inside the blob: a property count of 2^31 in a
300-byte file makes it loop (and log) two billion times. `_counts_fit` walks
the object framing first and refuses a blob whose lengths or counts need more
bytes than remain; what else a crafted blob can do is bounded by the parse
budget (sandbox/worker.py). The library's per-item log lines are silenced by
`quiet_library`, which start-up calls (never an import).
"""

import logging
import mimetypes
import struct
from dataclasses import dataclass

from striprtf.striprtf import rtf_to_text
from tnefparse import TNEF

from maildesk.mail.charsets import decode_bytes
from maildesk.mail.payloads import html_to_text

_SIGNATURE = 0x223E9F78
_OBJECT_HEAD = struct.Struct("<BHHI")  # level, attribute name, attribute type, length
_CHECKSUM = 2
# Objects whose data starts with a count of items (MAPI properties, recipient rows).
_COUNTED = frozenset({0x9003, 0x9004, 0x9005})
# Each counted item takes at least 4 bytes (a row's own count; a property's type and name).
_MIN_ITEM = 4


def quiet_library() -> None:
    """Silence tnefparse, which logs a line (some warnings) for every item it reads."""
    logging.getLogger("tnefparse").setLevel(logging.CRITICAL + 1)


@dataclass(frozen=True)
class Unpacked:
    text: str
    files: tuple[tuple[str, str, bytes], ...]  # (filename, content type, data)


def unpack(data: bytes) -> Unpacked | None:
    """Text and files of a TNEF blob; None when it is not readable TNEF."""
    if not _counts_fit(data):
        return None
    try:
        tnef = TNEF(data, do_checksum=False)
    except (ValueError, IndexError, KeyError, UnicodeError, TypeError):
        return None
    files = []
    for attachment in tnef.attachments:
        name = attachment.long_filename() or attachment.name
        files.append((name, _guess_type(name), attachment.data))
    return Unpacked(text=_tnef_text(tnef), files=tuple(files))


def _counts_fit(data: bytes) -> bool:
    """The signature is there and every item count fits the bytes that remain.

    A truncated last object is tolerated (tnefparse reads what is there).
    """
    if len(data) < 6 or struct.unpack_from("<I", data)[0] != _SIGNATURE:
        return False
    offset = 6
    while offset + _OBJECT_HEAD.size <= len(data):
        _level, name, _kind, length = _OBJECT_HEAD.unpack_from(data, offset)
        start = offset + _OBJECT_HEAD.size
        available = min(length, len(data) - start)
        if name in _COUNTED and available >= 4:
            count = struct.unpack_from("<I", data, start)[0]
            if count * _MIN_ITEM > available - 4:
                return False
        offset = start + length + _CHECKSUM
    return True


def _tnef_text(tnef: TNEF) -> str:
    codepage = tnef.codepage
    if tnef.body:
        return _as_text(tnef.body, codepage).rstrip("\x00")
    if tnef.htmlbody:
        return html_to_text(_as_text(tnef.htmlbody, codepage))
    return _rtf_text(tnef, codepage)


def _rtf_text(tnef: TNEF, codepage: str | None) -> str:
    """The compressed RTF body as text; '' when there is none or it is broken.

    RTF is 7-bit text whose escapes name their code page. compressed_rtf
    raises a bare Exception on bad data; the winmail.dat is kept either way.
    """
    try:
        rtf = tnef.rtfbody
        if not rtf:
            return ""
        text = rtf_to_text(rtf.decode("latin-1"), encoding=codepage or "cp1252", errors="replace")
    except Exception:  # noqa: BLE001 - a broken body must not cost us the mail
        return ""
    return text.strip()


def _as_text(value: bytes | str, codepage: str | None) -> str:
    return value if isinstance(value, str) else decode_bytes(value, codepage)


def _guess_type(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"
