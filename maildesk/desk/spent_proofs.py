"""Spent proofs: an agent's reply is applied once per (id of ours it answers, its text).

The Message-ID of a reply is unique-indexed already, but a copy sent again
under a new Message-ID would prove itself again. So a proven reply spends
the pair (the id of ours that proved it, a fingerprint of its new text)
under a unique index: the second mail with the same pair is a replay. Two
workers spending one pair at once are decided by that index: the second
waits for the first's commit and then finds the pair taken (no error).
"""

import hashlib
from datetime import datetime

from sqlalchemy.orm import Session

from maildesk.store.db import InsertOrSkip
from maildesk.store.tables import SpentProof

_SPEND = InsertOrSkip(SpentProof.__table__, ["proof", "text_sha256"], returning=[SpentProof.proof])


def fingerprint(text: str) -> str:
    """SHA-256 of the text with whitespace collapsed and case folded: a copy re-wrapped or
    re-cased by a mail client is the same reply."""
    return hashlib.sha256(" ".join(text.split()).casefold().encode()).hexdigest()


def spend(session: Session, proof: str, text: str, now: datetime) -> bool:
    """Spend `proof` on a reply's new text; False when that pair was spent before (a replay)."""
    row = {"proof": proof, "text_sha256": fingerprint(text), "spent_at": now}
    return _SPEND(session, row).first() is not None
