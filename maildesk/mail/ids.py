"""Our own Message-IDs: they carry the ticket number and an HMAC of it.

A reply or a bounce that quotes one of these ids threads to its ticket even
when the subject was edited and the id was never stored (osTicket's idea);
the HMAC means nobody can forge an id that points at another ticket. An id
of mail to one person (an agent, a customer) is also bound to them (a tag of
their address under the HMAC), so a reply proves which mail of ours it
answers: another agent's notification, or one typed by hand, does not check.
New ids are signed with the desk's signing key; an id checks under any of its
keys (keys.py), and its recipient tag is read under the key that checked.
"""

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field

from maildesk.mail.keys import Keys

_OURS = re.compile(
    r"^<md\.(\d+)\.(?:([0-9a-f]{10})\.)?([0-9a-f]{12})\.([0-9a-f]{20})@([^<>\s]+)>$", re.I
)


@dataclass(frozen=True)
class Signed:
    """What a valid id of ours says: the ticket, and the recipient tag if bound to one
    (under `key`, the one of the desk's keys that signed the id)."""

    number: int
    recipient: str | None
    key: str = field(default="", repr=False, compare=False)

    def bound_to(self, address: str | None) -> bool:
        """The id was issued to `address` alone."""
        if self.recipient is None or address is None:
            return False
        return hmac.compare_digest(self.recipient, recipient_tag(self.key, address))


def _mac(secret: str, text: str, length: int) -> str:
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()[:length]


def recipient_tag(secret: str, address: str) -> str:
    """A short keyed tag of `address`: the id names its recipient without showing it."""
    return _mac(secret, f"to:{address.strip().lower()}", 10)


def _signature(secret: str, number: int, tag: str, nonce: str) -> str:
    """Unbound ids sign `number.nonce`, as before recipient tags existed: old replies check."""
    return _mac(secret, f"{number}.{tag}.{nonce}" if tag else f"{number}.{nonce}", 20)


def make_message_id(keys: Keys, number: int, domain: str, recipient: str | None = None) -> str:
    """A fresh signed Message-ID for a mail about ticket `number` (to `recipient`)."""
    secret = keys.signing
    nonce = secrets.token_hex(6)
    tag = recipient_tag(secret, recipient) if recipient else ""
    middle = f"{tag}." if tag else ""
    return f"<md.{number}.{middle}{nonce}.{_signature(secret, number, tag, nonce)}@{domain}>"


def signed(keys: Keys, message_id: str) -> Signed | None:
    """The ticket (and recipient tag) of one of our ids; None if not ours or forged."""
    match = _OURS.match(message_id.strip())
    if not match:
        return None
    number, tag, nonce, signature = int(match[1]), (match[2] or "").lower(), match[3], match[4]
    key = keys.verifying(
        lambda secret: _signature(secret, number, tag, nonce.lower()), signature.lower()
    )
    return None if key is None else Signed(number, tag or None, key)


def ticket_number(keys: Keys, message_id: str) -> int | None:
    """The ticket number in one of our signed ids, or None if not ours or forged."""
    found = signed(keys, message_id)
    return found.number if found else None
