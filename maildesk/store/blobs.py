"""Content-addressed storage of bytes (raw mails, attachments) in the database."""

import hashlib

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from maildesk.store.db import InsertOrSkip, execute
from maildesk.store.tables import Blob

_BY_HASH = select(Blob.id).where(Blob.sha256 == bindparam("digest"))
# One statement for a new blob, and two workers storing the same bytes at once
# both get its id instead of one failing.
_INSERT_NEW = InsertOrSkip(Blob.__table__, ["sha256"], returning=Blob.__table__.c.id)


def store(session: Session, data: bytes) -> int:
    """The id of the blob holding `data`, created if this hash is new."""
    digest = hashlib.sha256(data).hexdigest()
    new = _INSERT_NEW(session, {"sha256": digest, "size": len(data), "data": data}).scalar()
    if new is not None:
        return new
    return execute(session, _BY_HASH, {"digest": digest}).scalar_one()
