"""tnef.unpack: which body becomes the text, what the packed files are called and typed,
and which blobs are no TNEF at all. Pure.

The blobs are built object by object (tests/mail/crafted.py); the corpus's real
winmail.dat files (plain, HTML and RTF bodies, one file) go through
tests/intake/test_corpus.py and tests/mail/test_message.py.
"""

import struct

import pytest

from maildesk.mail import tnef
from tests.mail.crafted import MAPI_PROPS, count_attack, tnef_blob

OEM_CODEPAGE, BODY = 0x9007, 0x800C
ATTACH_RENDDATA, ATTACH_TITLE, ATTACH_DATA, ATTACHMENT = 0x9002, 0x8010, 0x800F, 0x9005
STRING, UNICODE, BINARY = 0x001E, 0x001F, 0x0102
PR_BODY, PR_BODY_HTML, PR_ATTACH_LONG_FILENAME = 0x1000, 0x1013, 0x3707


def codepage(number: int) -> tuple[int, bytes]:
    return OEM_CODEPAGE, struct.pack("<II", number, 0)


def mapi(*props: tuple[int, int, bytes]) -> bytes:
    """MAPI properties (type, name, value), each one value long, padded to 4 bytes."""
    out = struct.pack("<I", len(props))
    for kind, name, value in props:
        out += struct.pack("<HHII", kind, name, 1, len(value)) + value + bytes(-len(value) % 4)
    return out


def attachment(title: bytes, data: bytes, long_name: str | None = None) -> list:
    objects = [(2, ATTACH_RENDDATA, bytes(14)), (2, ATTACH_TITLE, title), (2, ATTACH_DATA, data)]
    if long_name is not None:
        value = long_name.encode("utf-16-le") + b"\0\0"
        objects.append((2, ATTACHMENT, mapi((UNICODE, PR_ATTACH_LONG_FILENAME, value))))
    return objects


def test_body_in_the_oem_code_page_and_files_by_their_long_names():
    blob = tnef_blob(
        codepage(936),
        (BODY, "打印机卡纸了，请帮忙。".encode("gbk") + b"\0\0"),
        *attachment(b"QUARTE~1.PDF\0", b"%PDF-1.7 data", "Quarterly report (final).pdf"),
        *attachment(b"notes.zzq\0", b"\x00\x01"),
    )
    unpacked = tnef.unpack(blob)
    assert unpacked.text == "打印机卡纸了，请帮忙。", "decoded as GBK, NULs gone"
    assert unpacked.files == (
        ("Quarterly report (final).pdf", "application/pdf", b"%PDF-1.7 data"),
        ("notes.zzq", "application/octet-stream", b"\x00\x01"),
    ), "the long name over the 8.3 title; an unknown extension is octets"


@pytest.mark.parametrize("html_first", [False, True])
def test_a_plain_body_wins_over_the_html_one(html_first):
    props = [(STRING, PR_BODY, "plain wörds\0".encode("cp1252")), (BINARY, PR_BODY_HTML, b"<p>x")]
    blob = tnef_blob(codepage(1252), (MAPI_PROPS, mapi(*(props[::-1] if html_first else props))))
    assert tnef.unpack(blob) == tnef.Unpacked(text="plain wörds", files=())


def test_a_truncated_last_object_keeps_what_came_before():
    whole = tnef_blob((BODY, b"the body\0"), (ATTACH_TITLE, b"a title that gets cut"))
    assert tnef.unpack(whole[:-10]) == tnef.Unpacked(text="the body", files=())


@pytest.mark.parametrize(
    "data",
    [
        b"",
        struct.pack("<I", 0x223E9F78),  # the signature, then nothing
        b"PK\x03\x04" + bytes(40),  # a zip named winmail.dat
        pytest.param(None, id="a count larger than the blob"),
    ],
)
def test_what_is_no_readable_tnef_gives_none(data):
    assert tnef.unpack(count_attack() if data is None else data) is None
