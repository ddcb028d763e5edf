"""compose.text_mail: our shortcut for plain headers writes what compat32 would."""

from email import message_from_bytes
from email.header import Header
from email.mime.text import MIMEText
from email.policy import compat32

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


def test_an_internationalised_address_is_utf8_not_encoded_words():
    raw = compose.text_mail([("To", "张伟@例子.中国"), ("Subject", "工单")], "hi")
    assert "To: 张伟@例子.中国\n".encode() in raw and b"Subject: =?utf-8?" in raw
