"""Parsing and decoding: headers, charsets, bodies, parts. Pure, no servers."""

import base64
import email
from pathlib import Path

import pytest

from maildesk.mail.charsets import decode_bytes
from maildesk.mail.headers import decode_header
from maildesk.mail.message import parse

MAIL = Path(__file__).parent / "corpus"


def b_word(data: bytes, charset: str) -> str:
    return f"=?{charset}?B?{base64.b64encode(data).decode()}?="


# ---------------------------------------------------------------- charsets


@pytest.mark.parametrize(
    ("text", "encoding", "label"),
    [
        ("朱镕基、陶喆、王堃", "gbk", "gb2312"),
        ("𠮷野家 €", "gb18030", "gb18030"),
        ("部機壞咗，啲文件", "big5hkscs", "big5"),
        ("髙橋 ①②", "cp932", "shift_jis"),
        ("請求書の金額", "iso2022_jp", "iso-2022-jp"),
        ("Не работает печать счетов", "koi8_r", "koi8-r"),
        ("Вопрос по договору", "cp1251", "windows-1251"),
        ("Grüße, Straße, „Zitat“ – 20 €", "cp1252", "iso-8859-1"),
        ("Grüße aus Köln, Klaus Größer", "utf-8", "iso-8859-1"),
        ("您好，我们上周下的订单到现在还没有发货，请帮忙查询", "gbk", "iso-8859-1"),
        ("您好，我忘记了管理员密码，无法重置，请协助处理", "gbk", "utf-8"),
        ("您好，请问上个月的发票什么时候可以寄出？", "gbk", None),
        ("Здравствуйте! Мы не можем войти в личный кабинет.", "koi8_r", None),
        ("plain ascii", "ascii", None),
        ("Hola, el envío no llegó", "utf-8", "unknown-8bit"),
    ],
)
def test_decode_bytes_gets_the_text_back(text: str, encoding: str, label: str | None) -> None:
    assert decode_bytes(text.encode(encoding), label) == text


def test_cp50221_nec_symbols_in_iso2022jp() -> None:
    data = "手順".encode("iso2022_jp") + b"\x1b$B-!-\x22\x1b(B"
    assert decode_bytes(data, "iso-2022-jp") == "手順①②"


def test_unlabelled_iso2022jp_is_recognised_by_its_escapes() -> None:
    assert decode_bytes("お問い合わせ".encode("iso2022_jp"), None) == "お問い合わせ"


def test_truncated_utf8_keeps_what_is_there() -> None:
    assert decode_bytes("你好".encode()[:-1], "utf-8") == "你\ufffd"


def test_short_latin1_text_keeps_its_declared_charset() -> None:
    assert decode_bytes("äöü ÄÖÜ ß".encode("latin-1"), "iso-8859-1") == "äöü ÄÖÜ ß"


# ---------------------------------------------------------------- headers


def test_character_split_across_encoded_words_survives() -> None:
    data = "镕基问题".encode("gbk")
    value = f"{b_word(data[:3], 'gb2312')}\r\n {b_word(data[3:], 'gb2312')}"
    assert decode_header(value) == "镕基问题"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=?utf-8?Q?caf=C3=A9_au_lait?=", "café au lait"),
        ("=?utf-8?B?5L2g5aW9?= =?utf-8?B?5LiW55WM?=", "你好世界"),
        ("=?utf-8?B?5L2g5aW9?= and =?utf-8?B?5LiW55WM?=", "你好 and 世界"),
        ("Re:=?utf-8?Q?caf=C3=A9?=", "Re:café"),
        ("=?utf-8?B?5L2g5aW?=", "你\ufffd"),
        ("=?UTF-8*en?b?5L2g5aW9?=", "你好"),
        ("=?iso-8859-1?Q?Caf=C3=A9?=", "Café"),
        ("=?x-unknown?Q?plain?=", "plain"),
        ("=?utf-8?B?!!!?=", "=?utf-8?B?!!!?="),
        ("no encoded words", "no encoded words"),
    ],
)
def test_decode_header_is_forgiving(value: str, expected: str) -> None:
    assert decode_header(value) == expected


def test_display_name_with_comma_does_not_split_the_address() -> None:
    raw = b"From: =?utf-8?Q?Lee=2C_Ann_=E6=9D=8E?= <Ann@Customer.Example>\nSubject: x\n\nhi\n"
    mail = parse(raw)
    assert (mail.from_name, mail.from_addr) == ("Lee, Ann 李", "ann@customer.example")


def test_raw_8bit_gbk_subject_is_detected() -> None:
    raw = b"From: a@b.example\nSubject: " + "关于发票开具的问题，请尽快处理".encode("gbk")
    assert parse(raw + b"\n\nhi\n").subject == "关于发票开具的问题，请尽快处理"


def test_folded_references_are_all_found() -> None:
    raw = b"From: a@b.example\nReferences: <1@x>\n <2@x>\n\t<3@x>\nIn-Reply-To: <3@x>\n\nhi\n"
    mail = parse(raw)
    assert mail.references == ("<1@x>", "<2@x>", "<3@x>") and mail.in_reply_to == ("<3@x>",)


def test_not_a_mail_raises_value_error() -> None:
    with pytest.raises(ValueError, match="not an email"):
        parse(b"\x00\x01 garbage")


# ---------------------------------------------------------------- bodies and parts


def multipart(*parts: bytes, ctype: bytes = b"multipart/mixed") -> bytes:
    body = b"".join(b"--B\n" + part + b"\n" for part in parts)
    head = b"From: a@b.example\nContent-Type: " + ctype + b'; boundary="B"\n\n'
    return head + body + b"--B--\n"


def test_html_only_mail_gives_text_and_keeps_html() -> None:
    raw = (
        b"From: a@b.example\nContent-Type: text/html; charset=utf-8\n\n"
        b"<style>p{color:red}</style><p>Orders <b>1</b> &amp; 2</p><script>x()</script>"
    )
    mail = parse(raw)
    assert mail.text == "Orders 1 & 2" and "<b>1</b>" in mail.html


def test_plain_is_preferred_over_html() -> None:
    raw = multipart(
        b"Content-Type: text/plain\n\nplain words",
        b"Content-Type: text/html\n\n<p>html words</p>",
        ctype=b"multipart/alternative",
    )
    mail = parse(raw)
    assert mail.text.strip() == "plain words" and "html words" in mail.html


def test_rfc2231_name_labelled_gb2312_with_gbk_only_characters() -> None:
    raw = multipart(
        b"Content-Type: text/plain\n\nhi",
        b"Content-Type: application/pdf\n"
        b"Content-Disposition: attachment; filename*=gb2312''%E9%46%BB%F9.pdf\n\n%PDF",
    )
    assert [p.filename for p in parse(raw).parts] == ["镕基.pdf"]


def test_boundary_found_in_the_body_when_the_parameter_is_wrong() -> None:
    raw = (
        b'From: a@b.example\nContent-Type: multipart/mixed; boundary="nope"\n\n'
        b"--real\nContent-Type: text/plain\n\nthe text\n"
        b"--real\nContent-Type: text/csv; name=a.csv\n\na,b\n--real--\n"
    )
    mail = parse(raw)
    assert mail.text.strip() == "the text" and [p.filename for p in mail.parts] == ["a.csv"]


def test_damaged_base64_is_decoded_line_by_line() -> None:
    good = base64.b64encode(b"first line ok").decode()
    raw = (
        f"From: a@b.example\nContent-Type: text/plain\nContent-Transfer-Encoding: base64\n\n"
        f"{good}\n#!{base64.b64encode(b'second').decode().rstrip('=')}x\n"
    ).encode()
    assert parse(raw).text == "first line oksecond"


def test_attached_message_text_joins_and_the_mail_is_kept_as_a_file() -> None:
    inner = b"From: boss@b.example\nSubject: Gate 4\n\nThe reader rejects cards.\n"
    raw = multipart(
        b"Content-Type: text/plain\n\nSee below.", b"Content-Type: message/rfc822\n\n" + inner
    )
    mail = parse(raw)
    assert mail.text.startswith("See below.") and "The reader rejects cards." in mail.text
    assert [(p.filename, p.content_type) for p in mail.parts] == [("Gate 4.eml", "message/rfc822")]


def test_tnef_body_and_attachments_come_through() -> None:
    mail = parse((MAIL / "tnef_winmail_dat.eml").read_bytes())
    assert "the scanner on floor 2 shows error 0x51" in mail.text
    assert [p.filename for p in mail.parts] == ["winmail.dat", "scan-error.txt"]
    assert mail.parts[1].data == b"error 0x51 at 09:14"


def test_tnef_rtf_body_becomes_text_and_a_broken_one_loses_nothing() -> None:
    raw = (MAIL / "tnef_rtf_body.eml").read_bytes()
    assert "VPN 客户端每十分钟断开一次" in parse(raw).text
    winmail = email.message_from_bytes(raw).get_payload()[0].get_payload(decode=True)
    assert b"LZFu" in winmail  # the compressed-RTF magic
    damaged = winmail.replace(b"LZFu", b"XXXX")  # an unknown compression
    mail = parse(
        multipart(
            b"Content-Type: text/plain\n\nsee the attachment",
            b"Content-Type: application/ms-tnef; name=winmail.dat\n"
            b"Content-Transfer-Encoding: base64\n\n" + base64.encodebytes(damaged),
        )
    )
    assert mail.text.strip() == "see the attachment"
    assert [p.filename for p in mail.parts] == ["winmail.dat"]


def test_broken_tnef_is_kept_as_a_file_only() -> None:
    raw = multipart(
        b"Content-Type: text/plain\n\nhello",
        b"Content-Type: application/ms-tnef; name=winmail.dat\n\nnot tnef at all",
    )
    mail = parse(raw)
    assert mail.text.strip() == "hello" and [p.filename for p in mail.parts] == ["winmail.dat"]


def test_bounce_returns_the_headers_of_the_bounced_mail() -> None:
    raw = (MAIL / "dsn_bounce_of_our_ack.eml").read_bytes().replace(b"{ACK_MESSAGE_ID}", b"<a@b>")
    returned = parse(raw).returned
    assert returned is not None and returned.message_id == "<a@b>"
    assert returned.subject == "{ACK_SUBJECT}"
