"""Signed return paths (VERP): a delivery report proves which mail of ours it returns. Pure.

Anyone can write a delivery report that quotes one of our Message-IDs, and
every Cc'd person has seen some. A report the remote server sends goes to
the SMTP MAIL FROM of the mail instead, so, as Mailman and Sympa do, each
mail goes out with its own return path, `<local>+<token>@<domain>`, whose
token names the outbox mail under an HMAC of the desk's signing key (like ids.py).
The token is lower-case letters and digits, since some servers case-fold
local parts; with one recipient the HMAC covers that recipient as well.
"""

import hashlib
import hmac
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from email.utils import getaddresses

from maildesk.mail.keys import Keys

# Where a report's envelope recipient shows: servers record it in one of these.
ENVELOPE_HEADERS = ("to", "delivered-to", "x-original-to", "envelope-to")
MAC_LENGTH = 16
_TOKEN = re.compile(rf"^([0-9a-z]{{1,13}})-([0-9a-f]{{{MAC_LENGTH}}})$")
_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True)
class Token:
    """What a return-path token claims: the outbox mail, and the MAC that must check."""

    outbox_id: int
    mac: str


def envelope_sender(
    return_path: str, keys: Keys, outbox_id: int, recipients: Sequence[str]
) -> str:
    """The MAIL FROM of outbox mail `outbox_id` to `recipients`: the return path, signed."""
    local, _at, domain = return_path.rpartition("@")
    only = recipients[0] if len(recipients) == 1 else ""
    return f"{local}+{_base36(outbox_id)}-{_mac(keys.signing, outbox_id, only)}@{domain}"


def is_return_path(return_path: str | None, address: str) -> bool:
    """`address` is the return path, with or without a token (any case)."""
    return return_path is not None and _extension(return_path, address) is not None


def found(return_path: str, addresses: Iterable[str]) -> Token | None:
    """The first token of ours among a report's envelope `addresses`; not yet checked."""
    for address in addresses:
        match = _TOKEN.match(_extension(return_path, address) or "")
        if match:
            return Token(int(match[1], 36), match[2])
    return None


def checks(keys: Keys, token: Token, recipients: Sequence[str]) -> bool:
    """The token was made by us (under any of our keys) for this outbox mail, sent to
    `recipients`."""
    only = recipients[0] if len(recipients) == 1 else ""
    return (
        keys.verifying(lambda secret: _mac(secret, token.outbox_id, only), token.mac) is not None
    )


def envelope_addresses(headers: dict[str, tuple[str, ...]]) -> list[str]:
    """The addresses a mail says it was delivered to (To, Delivered-To, X-Original-To...)."""
    values = [value for name in ENVELOPE_HEADERS for value in headers.get(name, ())]
    return [address for _name, address in getaddresses(values) if "@" in address]


def _extension(return_path: str, address: str) -> str | None:
    """What follows `<local>+` in `address` ("" for the bare return path), or None when
    `address` is not the return path at all."""
    local, _at, domain = return_path.lower().rpartition("@")
    their_local, at, their_domain = address.strip().lower().rpartition("@")
    if not at or their_domain.rstrip(".") != domain:
        return None
    if their_local == local:
        return ""
    prefix = f"{local}+"
    return their_local[len(prefix) :] if their_local.startswith(prefix) else None


def _mac(secret: str, outbox_id: int, recipient: str) -> str:
    text = f"verp.{outbox_id}.{recipient.strip().lower()}"
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()[:MAC_LENGTH]


def _base36(number: int) -> str:
    digits = ""
    while True:
        number, digit = divmod(number, 36)
        digits = _DIGITS[digit] + digits
        if not number:
            return digits
