"""Our own Message-IDs: they carry the ticket number and an HMAC of it.

A reply or a bounce that quotes one of these ids threads to its ticket even
when the subject was edited and the id was never stored (osTicket's idea);
the HMAC means nobody can forge an id that points at another ticket. An id
of mail to one person (an agent, a customer) is also bound to them (a tag of
their address under the HMAC), so a reply proves which mail of ours it
answers: another agent's notification, or one typed by hand, does not check.
"""

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

_OURS = re.compile(
    r"^<md\.(\d+)\.(?:([0-9a-f]{10})\.)?([0-9a-f]{12})\.([0-9a-f]{20})@([^<>\s]+)>$", re.I
)


@dataclass(frozen=True)
class Signed:
    """What a valid id of ours says: the ticket, and the recipient tag if bound to one."""

    number: int
    recipient: str | None


def _mac(secret: str, text: str, length: int) -> str:
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()[:length]


def recipient_tag(secret: str, address: str) -> str:
    """A short keyed tag of `address`: the id names its recipient without showing it."""
    return _mac(secret, f"to:{address.strip().lower()}", 10)


def _signature(secret: str, number: int, tag: str, nonce: str) -> str:
    """Unbound ids sign `number.nonce`, as before recipient tags existed: old replies check."""
    return _mac(secret, f"{number}.{tag}.{nonce}" if tag else f"{number}.{nonce}", 20)


def make_message_id(secret: str, number: int, domain: str, recipient: str | None = None) -> str:
    """A fresh signed Message-ID for a mail about ticket `number` (to `recipient`)."""
    nonce = secrets.token_hex(6)
    tag = recipient_tag(secret, recipient) if recipient else ""
    middle = f"{tag}." if tag else ""
    return f"<md.{number}.{middle}{nonce}.{_signature(secret, number, tag, nonce)}@{domain}>"


def signed(secret: str, message_id: str) -> Signed | None:
    """The ticket (and recipient tag) of one of our ids; None if not ours or forged."""
    match = _OURS.match(message_id.strip())
    if not match:
        return None
    number, tag, nonce, signature = int(match[1]), (match[2] or "").lower(), match[3], match[4]
    if not hmac.compare_digest(signature.lower(), _signature(secret, number, tag, nonce.lower())):
        return None
    return Signed(number, tag or None)


def ticket_number(secret: str, message_id: str) -> int | None:
    """The ticket number in one of our signed ids, or None if not ours or forged."""
    found = signed(secret, message_id)
    return found.number if found else None
