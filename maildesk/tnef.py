"""winmail.dat (TNEF) from Outlook: its body text and the files packed inside it.

The body is plain text, HTML, or (Outlook's "Rich Text" format) compressed
RTF, which tnefparse decompresses with compressed_rtf and striprtf reads.
"""

import mimetypes
from dataclasses import dataclass

from striprtf.striprtf import rtf_to_text
from tnefparse import TNEF

from maildesk.charsets import decode_bytes
from maildesk.payloads import html_to_text


@dataclass(frozen=True)
class Unpacked:
    text: str
    files: tuple[tuple[str, str, bytes], ...]  # (filename, content type, data)


def unpack(data: bytes) -> Unpacked | None:
    """Text and files of a TNEF blob; None when it is not readable TNEF."""
    try:
        tnef = TNEF(data, do_checksum=False)
    except (ValueError, IndexError, KeyError, UnicodeError, TypeError):
        return None
    files = []
    for attachment in tnef.attachments:
        name = attachment.long_filename() or attachment.name
        files.append((name, _guess_type(name), attachment.data))
    return Unpacked(text=_tnef_text(tnef), files=tuple(files))


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
