"""Our own Message-IDs: they carry the ticket number and an HMAC of it.

A reply or a bounce that quotes one of these ids threads to its ticket even
when the subject was edited and the id was never stored (osTicket's idea);
the HMAC means nobody can forge an id that points at another ticket.
"""

import hashlib
import hmac
import re
import secrets

_OURS = re.compile(r"^<md\.(\d+)\.([0-9a-f]{12})\.([0-9a-f]{20})@([^<>\s]+)>$", re.I)


def _signature(secret: str, number: int, nonce: str) -> str:
    mac = hmac.new(secret.encode(), f"{number}.{nonce}".encode(), hashlib.sha256)
    return mac.hexdigest()[:20]


def make_message_id(secret: str, number: int, domain: str) -> str:
    """A fresh signed Message-ID for a mail about ticket `number`."""
    nonce = secrets.token_hex(6)
    return f"<md.{number}.{nonce}.{_signature(secret, number, nonce)}@{domain}>"


def ticket_number(secret: str, message_id: str) -> int | None:
    """The ticket number in one of our signed ids, or None if not ours or forged."""
    match = _OURS.match(message_id.strip())
    if not match:
        return None
    number, nonce, signature = int(match[1]), match[2].lower(), match[3].lower()
    if not hmac.compare_digest(signature, _signature(secret, number, nonce)):
        return None
    return number
