"""Raw bytes → stdlib message objects, repairing a multipart whose boundary was lost.

The rest of parsing (message.py) works on what this returns; a mail with no
headers at all is refused here, and the caller quarantines it.
"""

import re
from email import policy
from email.message import EmailMessage
from email.parser import BytesFeedParser
from typing import cast

_BOUNDARY_LINE = re.compile(rb"^--([^\s-][^\r\n]{0,69}?)\s*$", re.M)
_HEAD_END = re.compile(rb"\r?\n\r?\n")
_CONTENT_TYPE = re.compile(rb"^content-type:[^\r\n]*(\r?\n[ \t][^\r\n]*)*", re.I | re.M)
# The feed parser gets the bytes in slices: email.message_from_bytes decodes the
# whole mail to one str and copies it into a StringIO (four bytes a character),
# 8x a large mail's size in memory before parsing starts (bench/big_mail.py).
_FEED = 1 << 16


def from_bytes(raw: bytes) -> EmailMessage:
    """The message tree with compat32 header handling.

    policy.default builds a parsed header object on every header access, which
    was a fifth of intake time; we decode header values ourselves anyway
    (headers.py) and walk the tree ourselves (body.py), so the plain string
    handling of compat32 is all we need.
    """
    parser = BytesFeedParser(_factory=EmailMessage, policy=policy.compat32)
    for start in range(0, len(raw), _FEED):
        parser.feed(raw[start : start + _FEED])
    # The factory makes EmailMessages; typeshed takes the type from compat32 (Message).
    return cast(EmailMessage, parser.close())


def read(raw: bytes) -> EmailMessage:
    """The parsed message; a multipart whose boundary is missing or wrong is re-cut."""
    msg = from_bytes(raw)
    if not isinstance(msg, EmailMessage) or not msg.keys():
        raise ValueError("no headers found: not an email message")
    if msg.get_content_maintype() == "multipart" and not msg.is_multipart():
        repaired = _with_found_boundary(raw)
        if repaired is not None:
            return from_bytes(repaired)
    return msg


def _with_found_boundary(raw: bytes) -> bytes | None:
    """Clients that mangle the boundary parameter still write `--boundary` lines; use them."""
    head_end = _HEAD_END.search(raw)
    if head_end is None:
        return None
    head, body = raw[: head_end.start()], raw[head_end.start() :]
    found = _BOUNDARY_LINE.search(body)
    if found is None or b'"' in found[1]:
        return None
    boundary = found[1].removesuffix(b"--")
    content_type = b'Content-Type: multipart/mixed; boundary="' + boundary + b'"'
    return _CONTENT_TYPE.sub(lambda _m: content_type, head, count=1) + body
