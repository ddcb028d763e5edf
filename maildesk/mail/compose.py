"""Outgoing MIME: one text/plain UTF-8 part and encoded headers, as bytes.

A mail with files is multipart/mixed: the same text part first, then each
file base64-encoded under its own type, a name that is not ASCII written as
RFC 2231 says. Built with the compat32 API (MIMEText, Header) rather than EmailMessage with
policy.default, whose parsing of every header value as it is set was most of
the cost of queuing an acknowledgement.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from email import encoders
from email.charset import QP, Charset
from email.header import Header
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import Compat32
from email.utils import formataddr

from maildesk.mail.names import type_name
from maildesk.mail.plaintext import one_line

_UTF8 = Charset("utf-8")
_UTF8.body_encoding = QP  # readable in any client's "show source", safe for 7-bit relays
_ADDRESS_HEADERS = frozenset({"to", "cc"})
_MIME_TYPE = re.compile(r"[a-z0-9!#$&^_.+-]+/[a-z0-9!#$&^_.+-]+")
# 80 characters of 4 UTF-8 bytes each, %XX-encoded, keep the header line under 998.
FILENAME_LIMIT = 80
_FALLBACK_TYPE = "application/octet-stream"


@dataclass(frozen=True)
class Attachment:
    """A file to send along: its name (any Unicode), MIME type and bytes."""

    filename: str
    content_type: str
    data: bytes


class _ShortAsciiAsIs(Compat32):
    """compat32 output, minus the Header round trip for values that need no encoding.

    compat32 folds every header through Header.encode, a tenth of the cost of
    intake (bench/ingest.py); a short one-line ASCII value comes out the same.
    A single long token (an Outlook Message-ID in In-Reply-To) stays on its
    line too: compat32 would fold before it, and a reader that unfolds gets
    " <id>", which matches no stored id.
    """

    def _fold(self, name: str, value, sanitize: bool) -> str:
        line = f"{name}: {value}"
        plain = isinstance(value, str) and value.isascii() and _one_line(value)
        if plain and (len(line) <= 78 or (len(line) <= 998 and " " not in value.strip())):
            return line + self.linesep
        # Compat32._fold is private: typeshed leaves it out.
        return super()._fold(name, value, sanitize)  # type: ignore[misc]


def _one_line(value: str) -> bool:
    return "\r" not in value and "\n" not in value


_POLICY = _ShortAsciiAsIs()


def address(name: str, addr: str) -> str:
    """`Name <addr>`, the name RFC 2047-encoded when it is not ASCII."""
    return formataddr((name, addr), charset="utf-8")


def text_mail(
    headers: list[tuple[str, str]],
    text: str,
    attachments: Sequence[Attachment] = (),
    html: str | None = None,
) -> bytes:
    """The whole message; header values may be any Unicode text.

    Without attachments or HTML it is the text part alone, as it always was;
    with HTML, text and HTML are the two parts of a multipart/alternative.
    """
    # MIMEText hands a Charset on to set_payload, which takes one; typeshed says str only.
    mail: MIMEBase = MIMEText(text, "plain", _UTF8)  # type: ignore[arg-type]
    if html is not None:
        del mail["MIME-Version"]
        mail = MIMEMultipart("alternative", _subparts=[mail, _html_part(html)])
    if attachments:
        del mail["MIME-Version"]  # once, at the top
        parts = [mail, *(_file_part(attachment) for attachment in attachments)]
        mail = MIMEMultipart("mixed", _subparts=parts)
    for name, value in headers:
        # compat32 takes Header values; typeshed types MIMEBase's headers as str.
        mail[name] = _header_value(name, value)  # type: ignore[assignment]
    return mail.as_bytes(policy=_POLICY)


def _html_part(html: str) -> MIMEText:
    part = MIMEText(html, "html", _UTF8)  # type: ignore[arg-type]  # a Charset, as above
    del part["MIME-Version"]
    return part


def _file_part(attachment: Attachment) -> MIMEBase:
    """One file: base64 under its type (octet-stream when that cannot stand as a leaf)."""
    content_type = attachment.content_type.lower()
    if not _MIME_TYPE.fullmatch(content_type) or content_type.startswith(
        ("multipart/", "message/")  # neither may be base64 (RFC 2046); a file is a file
    ):
        content_type = _FALLBACK_TYPE
    maintype, _, subtype = content_type.partition("/")
    part = MIMEBase(maintype, subtype)
    del part["MIME-Version"]
    part.set_payload(attachment.data)
    encoders.encode_base64(part)
    name = file_name(attachment.filename, attachment.content_type)
    filename = name if name.isascii() else ("utf-8", "", name)
    part.add_header("Content-Disposition", "attachment", filename=filename)
    return part


def file_name(filename: str, content_type: str) -> str:
    """One line of at most FILENAME_LIMIT characters, its extension kept; a part without
    a name (one stored before parts were named) is named after its type ("image.png")."""
    name = one_line(filename, max(len(filename), 1))
    if not name:
        return type_name(content_type)
    if len(name) <= FILENAME_LIMIT:
        return name
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem or len(extension) > FILENAME_LIMIT // 4:
        return one_line(name, FILENAME_LIMIT)
    return one_line(stem, FILENAME_LIMIT - len(extension) - 1) + "." + extension


def _header_value(name: str, value: str) -> str | Header:
    """RFC 2047 words for text; plain UTF-8 (RFC 6532) for addresses, where such words
    are not allowed (compat32 writes surrogate-escaped bytes as they are)."""
    if value.isascii():
        return value
    if name.lower() in _ADDRESS_HEADERS:
        return value.encode("utf-8").decode("ascii", "surrogateescape")
    return Header(value, "utf-8", header_name=name)
