"""File names of parts: base names only (#17 class 11), a name from the type when none is given."""

import pytest

from maildesk.mail.message import parse
from maildesk.mail.names import base_name, type_name


@pytest.mark.parametrize(
    ("written", "kept"),
    [
        ("../x", "x"),
        ("/etc/x", "x"),
        ("C:\\x\\y.doc", "y.doc"),
        ("..\\..\\boot.ini", "boot.ini"),
        ("C:y.doc", "y.doc"),
        ("a/b\\c.txt", "c.txt"),
        ("报告/季度报表.xlsx", "季度报表.xlsx"),
        ("..", ""),
        ("dir/", ""),
        ("  plain name.pdf ", "plain name.pdf"),
    ],
)
def test_a_name_keeps_only_its_base(written: str, kept: str) -> None:
    assert base_name(written) == kept


@pytest.mark.parametrize(
    ("content_type", "subject", "name"),
    [
        ("message/delivery-status", "", "delivery-status.txt"),
        ("message/disposition-notification", "", "disposition-notification.txt"),
        ("text/rfc822-headers", "", "headers.txt"),
        ("message/rfc822", "Gate 4 / badge reader", "Gate 4 - badge reader.eml"),
        ("message/rfc822", "", "message.eml"),
        ("text/calendar", "", "invite.ics"),
        ("application/pgp-signature", "", "signature.asc"),
        ("image/jpeg", "", "image.jpg"),
        ("text/plain", "", "text.txt"),
        ("application/pdf", "", "attachment.pdf"),
        ("application/x-unknown-thing", "", "attachment.bin"),
    ],
)
def test_a_part_without_a_name_is_named_after_its_type(content_type, subject, name) -> None:
    assert type_name(content_type, subject) == name


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ('Content-Disposition: attachment; filename="../../etc/passwd"', "passwd"),
        ('Content-Disposition: attachment; filename="C:\\\\Users\\\\a\\\\y.doc"', "y.doc"),
        ('Content-Disposition: inline; filename="C:\\x\\y.doc"', "y.doc"),
        ('Content-Disposition: attachment; filename="..\\..\\boot.ini"', "boot.ini"),
        ("Content-Disposition: attachment; filename*=utf-8''..%2F..%2Fboot.ini", "boot.ini"),
        ('Content-Disposition: attachment; filename="../"', "attachment.pdf"),
    ],
)
def test_a_path_in_a_sent_name_reaches_nobody(header: str, name: str) -> None:
    raw = (
        b'From: a@b.example\nContent-Type: multipart/mixed; boundary="B"\n\n--B\n\nsee file\n'
        b"--B\nContent-Type: application/pdf\n" + header.encode() + b"\n\n%PDF\n--B--\n"
    )
    assert [p.filename for p in parse(raw).parts] == [name]
