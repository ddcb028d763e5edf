"""Outgoing MIME: one text/plain UTF-8 part and encoded headers, as bytes.

Built with the compat32 API (MIMEText, Header) rather than EmailMessage with
policy.default, whose parsing of every header value as it is set was most of
the cost of queuing an acknowledgement.
"""

from email.charset import QP, Charset
from email.header import Header
from email.mime.text import MIMEText
from email.policy import Compat32
from email.utils import formataddr

_UTF8 = Charset("utf-8")
_UTF8.body_encoding = QP  # readable in any client's "show source", safe for 7-bit relays
_ADDRESS_HEADERS = frozenset({"to", "cc"})


class _ShortAsciiAsIs(Compat32):
    """compat32 output, minus the Header round trip for values that need no encoding.

    compat32 folds every header through Header.encode, a tenth of the cost of
    intake (bench/ingest.py); a short one-line ASCII value comes out the same.
    """

    def _fold(self, name: str, value, sanitize: bool) -> str:
        line = f"{name}: {value}"
        if isinstance(value, str) and value.isascii() and len(line) <= 78 and _one_line(value):
            return line + self.linesep
        return super()._fold(name, value, sanitize)


def _one_line(value: str) -> bool:
    return "\r" not in value and "\n" not in value


_POLICY = _ShortAsciiAsIs()


def address(name: str, addr: str) -> str:
    """`Name <addr>`, the name RFC 2047-encoded when it is not ASCII."""
    return formataddr((name, addr), charset="utf-8")


def text_mail(headers: list[tuple[str, str]], text: str) -> bytes:
    """The whole message; header values may be any Unicode text."""
    mail = MIMEText(text, "plain", _UTF8)
    for name, value in headers:
        mail[name] = _header_value(name, value)
    return mail.as_bytes(policy=_POLICY)


def _header_value(name: str, value: str) -> str | Header:
    """RFC 2047 words for text; plain UTF-8 (RFC 6532) for addresses, where such words
    are not allowed (compat32 writes surrogate-escaped bytes as they are)."""
    if value.isascii():
        return value
    if name.lower() in _ADDRESS_HEADERS:
        return value.encode("utf-8").decode("ascii", "surrogateescape")
    return Header(value, "utf-8", header_name=name)
