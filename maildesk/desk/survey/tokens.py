"""The survey's one-click links: a token signed for one survey of one ticket, no login.

The token names the survey and the ticket's number and carries an HMAC of
both under the instance secret; changing either, or a token of another
instance, fails the check (constant-time).
"""

import base64
import hashlib
import hmac

_PURPOSE = b"maildesk-survey:"


def make(secret: str, survey_id: int, ticket_number: int) -> str:
    body = f"{survey_id}.{ticket_number}"
    return f"{body}.{_mac(secret, body)}"


def check(secret: str, token: str) -> tuple[int, int] | None:
    """(survey id, ticket number) of a genuine token, else None."""
    survey, _, rest = token.partition(".")
    number, _, mac = rest.partition(".")
    if not (survey.isdigit() and number.isdigit() and mac):
        return None
    if not hmac.compare_digest(mac, _mac(secret, f"{survey}.{number}")):
        return None
    return int(survey), int(number)


def _mac(secret: str, body: str) -> str:
    digest = hmac.new(secret.encode(), _PURPOSE + body.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()
