"""Crafted winmail.dat attachments: the count attack and the runaway loop, in a mail."""

import struct
from email.message import EmailMessage

from maildesk.mail.message import parse
from tests.conftest import CORPUS, make_mail

TNEF_SIGNATURE = 0x223E9F78
MAPI_PROPS = 0x9003


def tnef_blob(*objects: tuple[int, bytes] | tuple[int, int, bytes]) -> bytes:
    """A winmail.dat of objects (attribute name, data): message-level ones, or of the level
    given first (2: an attachment's)."""
    out = struct.pack("<IH", TNEF_SIGNATURE, 1)
    for level, name, data in ((1, *o) if len(o) == 2 else o for o in objects):
        out += struct.pack("<BHHI", level, name, 6, len(data)) + data
        out += struct.pack("<H", sum(data) & 0xFFFF)
    return out


def with_winmail(data: bytes, subject: str = "see attached") -> EmailMessage:
    mail = make_mail(subject=subject, body="The file is attached.")
    mail.add_attachment(data, maintype="application", subtype="ms-tnef", filename="winmail.dat")
    return mail


def corpus_winmail(name: str) -> bytes:
    (part,) = [p for p in parse((CORPUS / name).read_bytes()).parts if p.filename == "winmail.dat"]
    return part.data


def count_attack() -> bytes:
    """A real winmail.dat with one changed count: 2^31 - 1 MAPI properties."""
    data = bytearray(corpus_winmail("tnef_rtf_body.eml"))
    at = data.index(struct.pack("<H", MAPI_PROPS)) - 1  # the object's level byte
    struct.pack_into("<I", data, at + 9, 0x7FFFFFFF)
    return bytes(data)


def runaway_attack() -> bytes:
    """One property whose multi-value count (2^31 - 1) tnefparse loops over without end.

    Its outer count fits the bytes, so only the time budget stops it.
    """
    props = struct.pack("<IHHI", 1, 0x1002, 0x0001, 0x7FFFFFFF) + bytes(16)
    return tnef_blob((MAPI_PROPS, props))
