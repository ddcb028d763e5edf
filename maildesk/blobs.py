"""Content-addressed storage of bytes (raw mails, attachments) in the database."""

import hashlib

from sqlalchemy import bindparam, insert, select
from sqlalchemy.orm import Session

from maildesk.db import execute
from maildesk.models import Blob

_BY_HASH = select(Blob.id).where(Blob.sha256 == bindparam("digest"))
_INSERT = insert(Blob.__table__)


def store(session: Session, data: bytes) -> int:
    """The id of the blob holding `data`, created if this hash is new."""
    digest = hashlib.sha256(data).hexdigest()
    known = execute(session, _BY_HASH, {"digest": digest}).scalar()
    if known is not None:
        return known
    row = {"sha256": digest, "size": len(data), "data": data}
    return execute(session, _INSERT, row).inserted_primary_key[0]
