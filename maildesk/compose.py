"""Outgoing MIME: one text/plain UTF-8 part and encoded headers, as bytes.

Built with the compat32 API (MIMEText, Header) rather than EmailMessage with
policy.default, whose parsing of every header value as it is set was most of
the cost of queuing an acknowledgement.
"""

from email.charset import QP, Charset
from email.header import Header
from email.mime.text import MIMEText
from email.utils import formataddr

_UTF8 = Charset("utf-8")
_UTF8.body_encoding = QP  # readable in any client's "show source", safe for 7-bit relays


def address(name: str, addr: str) -> str:
    """`Name <addr>`, the name RFC 2047-encoded when it is not ASCII."""
    return formataddr((name, addr), charset="utf-8")


def text_mail(headers: list[tuple[str, str]], text: str) -> bytes:
    """The whole message; header values may be any Unicode text."""
    mail = MIMEText(text, "plain", _UTF8)
    for name, value in headers:
        mail[name] = value if value.isascii() else Header(value, "utf-8", header_name=name)
    return mail.as_bytes()
