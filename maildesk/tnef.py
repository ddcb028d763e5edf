"""winmail.dat (TNEF) from Outlook: its body text and the files packed inside it."""

import mimetypes
from dataclasses import dataclass

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
    return ""


def _as_text(value: bytes | str, codepage: str | None) -> str:
    return value if isinstance(value, str) else decode_bytes(value, codepage)


def _guess_type(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"
