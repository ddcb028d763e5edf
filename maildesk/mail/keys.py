"""The desk's HMAC keys, so the secret can rotate: the first signs, every one verifies. Pure.

`MAILDESK_SECRET` may hold several secrets separated by whitespace (or commas),
newest first. What we issue (Message-IDs, VERP return paths, survey links) is
signed with the first; what comes back is checked against each in turn, so a
reply to a mail sent before the rotation still threads until the old secret
is dropped from the list.
"""

import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass

_SEPARATORS = re.compile(r"[\s,]+")


@dataclass(frozen=True)
class Keys:
    """The secrets in their order; never shown (`repr` names only how many there are)."""

    all: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.all or not all(self.all):
            raise ValueError("Keys needs at least one non-empty secret")

    @classmethod
    def parse(cls, text: str) -> "Keys":
        """The secrets of one value: split on whitespace and commas, empty pieces dropped."""
        return cls(tuple(piece for piece in _SEPARATORS.split(text) if piece))

    @property
    def signing(self) -> str:
        """The key that signs everything new."""
        return self.all[0]

    def verifying(self, mac: Callable[[str], str], given: str) -> str | None:
        """The first key under which `mac(key)` equals `given` (constant-time), else None."""
        for key in self.all:
            if hmac.compare_digest(given, mac(key)):
                return key
        return None

    def __repr__(self) -> str:
        return f"Keys(<{len(self.all)} secret(s)>)"
