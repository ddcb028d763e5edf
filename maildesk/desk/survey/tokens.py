"""The survey's links: a token signed for one survey of one ticket, no login.

The token names the survey and the ticket's number and carries an HMAC of
both under the desk's signing key; changing either, or a token of another
instance, fails the check (constant-time), and a link signed before the
secret rotated checks as long as its old key is in the list. `check` is total: whatever a
browser or a mail scanner puts in the path (non-ASCII, dots, 5 kB), the
answer is a result or None, never an exception, so the page answers 404.
"""

import base64
import hashlib
import hmac
import re

from maildesk.mail.keys import Keys

_PURPOSE = b"maildesk-survey:"
MAX_ID = 2**31 - 1  # ids and numbers are INTEGER columns (PostgreSQL: 32 bits)
# survey id . ticket number . 24 characters of URL-safe base64 (18 bytes of HMAC)
_SHAPE = re.compile(r"([1-9][0-9]{0,9})\.([1-9][0-9]{0,9})\.([A-Za-z0-9_-]{24})", re.ASCII)


def make(keys: Keys, survey_id: int, ticket_number: int) -> str:
    body = f"{survey_id}.{ticket_number}"
    return f"{body}.{_mac(keys.signing, body)}"


def check(keys: Keys, token: str) -> tuple[int, int] | None:
    """(survey id, ticket number) of a genuine token, else None; any str may come in."""
    shape = _SHAPE.fullmatch(token)
    if shape is None:
        return None
    survey, number, mac = shape.groups()
    if int(survey) > MAX_ID or int(number) > MAX_ID:
        return None
    if keys.verifying(lambda secret: _mac(secret, f"{survey}.{number}"), mac) is None:
        return None
    return int(survey), int(number)


def _mac(secret: str, body: str) -> str:
    digest = hmac.new(secret.encode(), _PURPOSE + body.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()
