"""compose.text_mail: our shortcut for plain headers writes what compat32 would."""

from email import message_from_bytes
from email.header import Header
from email.mime.text import MIMEText
from email.policy import compat32, default

import pytest

from maildesk.mail import compose

HEADERS = [
    ("From", compose.address("支持中心", "support@desk.example")),
    ("To", "Ann Lee <ann@customer.example>"),
    ("Subject", "[Ticket#7] 无法登录 since the update, please help us quickly today"),
    ("Message-ID", "<md.7.abc.def@desk.example>"),
    ("In-Reply-To", "<x1@customer.example>"),
    ("References", " ".join(f"<id{n}@customer.example>" for n in range(10))),
    ("X-Odd", "two  spaces and a trailing space "),
    ("X-Tab", "a\tb"),
    ("X-Empty", ""),
]


def _compat32_bytes(headers: list[tuple[str, str]], text: str) -> bytes:
    mail = MIMEText(text, "plain", compose._UTF8)
    for name, value in headers:
        mail[name] = value if value.isascii() else Header(value, "utf-8", header_name=name)
    return mail.as_bytes(policy=compat32)


@pytest.mark.parametrize("text", ["hello", "你好，\n请在此行以上回复\n" * 3, ""])
def test_same_bytes_as_compat32(text):
    assert compose.text_mail(HEADERS, text) == _compat32_bytes(HEADERS, text)


def test_long_and_non_ascii_headers_are_still_folded_and_encoded():
    raw = compose.text_mail(HEADERS, "hi")
    assert all(len(line) <= 78 for line in raw.split(b"\n"))
    parsed = message_from_bytes(raw)
    assert "=?utf-8?" in parsed["Subject"] and parsed["References"].count("<id") == 10


def test_a_long_message_id_stays_on_its_header_line():
    outlook = "<DB9PR04MB84123A5B6C7D8E9F0A1B2C3DE4F5A@DB9PR04MB8412.eurprd04.prod.outlook.com>"
    raw = compose.text_mail([("In-Reply-To", outlook), ("Subject", "x")], "hi")
    assert f"In-Reply-To: {outlook}\n".encode() in raw
    assert message_from_bytes(raw, policy=default)["In-Reply-To"] == outlook


def test_an_internationalised_address_is_utf8_not_encoded_words():
    raw = compose.text_mail([("To", "张伟@例子.中国"), ("Subject", "工单")], "hi")
    assert "To: 张伟@例子.中国\n".encode() in raw and b"Subject: =?utf-8?" in raw


PDF = b"%PDF-1.7\n" + bytes(range(256)) * 8 + b"\n%%EOF\n"
FILES = [
    compose.Attachment("invoice.pdf", "application/pdf", PDF),
    compose.Attachment("使用说明 第2版.docx", "application/octet-stream", b"PK\x03\x04\x00\xff"),
    compose.Attachment("", "image/png", b"\x89PNG\r\n"),
    compose.Attachment("fwd.eml", "message/rfc822", b"Subject: hi\n\nold mail\n"),
]


def _files(raw: bytes) -> list[tuple[str, str, bytes]]:
    parsed = message_from_bytes(raw, policy=default)
    return [
        (part.get_filename(), part.get_content_type(), part.get_payload(decode=True))
        for part in parsed.iter_attachments()
    ]


def test_files_make_a_multipart_mixed_mail_text_first():
    raw = compose.text_mail(HEADERS, "你好，见附件。\n", FILES)
    parsed = message_from_bytes(raw, policy=default)
    assert parsed.get_content_type() == "multipart/mixed"
    assert raw.count(b"MIME-Version:") == 1, "once, at the top"
    assert parsed["Message-ID"] == "<md.7.abc.def@desk.example>"
    first, *rest = parsed.iter_parts()
    assert first.get_content_type() == "text/plain" and first.get_content() == "你好，见附件。\n"
    assert first["Content-Transfer-Encoding"] == "quoted-printable"
    assert all(part["Content-Transfer-Encoding"] == "base64" for part in rest)
    assert _files(raw) == [
        ("invoice.pdf", "application/pdf", PDF),
        ("使用说明 第2版.docx", "application/octet-stream", b"PK\x03\x04\x00\xff"),
        ("image.png", "image/png", b"\x89PNG\r\n"),
        ("fwd.eml", "application/octet-stream", b"Subject: hi\n\nold mail\n"),
    ], "bytes intact; a nameless part named after its type; message/* never base64"
    assert b"filename*=utf-8''%E4%BD%BF%E7%94%A8" in raw, "RFC 2231, not encoded words"
    assert raw.isascii() and all(len(line) <= 998 for line in raw.split(b"\n"))


def test_the_text_part_is_the_same_with_or_without_files():
    alone = message_from_bytes(compose.text_mail(HEADERS, "hello\n"), policy=default)
    mixed = message_from_bytes(compose.text_mail(HEADERS, "hello\n", FILES[:1]), policy=default)
    (text,) = [p for p in mixed.iter_parts() if p.get_content_type() == "text/plain"]
    assert text.get_payload() == alone.get_payload()
    assert text["Content-Type"] == alone["Content-Type"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a\r\nBcc: x@evil.example\t.txt", "a Bcc: x@evil.example .txt"),
        ("长" * 200 + ".pdf", "长" * (compose.FILENAME_LIMIT - 5) + "….pdf"),
        ("😀" * 200, "😀" * (compose.FILENAME_LIMIT - 1) + "…"),
    ],
    ids=["line-breaks", "long-with-extension", "long-emoji"],
)
def test_file_names_are_one_bounded_line_that_keeps_its_extension(name, expected):
    assert compose.file_name(name, "application/pdf") == expected
    raw = compose.text_mail(HEADERS, "hi", [compose.Attachment(name, "application/pdf", b"x")])
    assert _files(raw) == [(expected, "application/pdf", b"x")]
    assert all(len(line) <= 998 for line in raw.split(b"\n")), "within RFC 5322's line limit"
