"""Content-addressed storage of bytes (raw mails, attachments) in the database."""

import hashlib

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from maildesk.models import Blob

_BY_HASH = select(Blob.id).where(Blob.sha256 == bindparam("digest"))


def store(session: Session, data: bytes) -> int:
    """The id of the blob holding `data`, created if this hash is new."""
    digest = hashlib.sha256(data).hexdigest()
    known = session.scalar(_BY_HASH, {"digest": digest})
    if known is not None:
        return known
    blob = Blob(sha256=digest, size=len(data), data=data)
    session.add(blob)
    session.flush()
    return blob.id
