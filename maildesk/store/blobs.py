"""Content-addressed storage of bytes (raw mails, attachments) in the database."""

import hashlib

from sqlalchemy import bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from maildesk.store.db import execute
from maildesk.store.tables import Blob

_BY_HASH = select(Blob.id).where(Blob.sha256 == bindparam("digest"))
# INSERT … ON CONFLICT DO NOTHING RETURNING id: one statement for a new blob, and
# two workers storing the same bytes at once both get its id instead of one failing.
_INSERT_NEW = {
    name: dialect.insert(Blob.__table__)
    .on_conflict_do_nothing(index_elements=["sha256"])
    .returning(Blob.id)
    for name, dialect in (("sqlite", sqlite), ("postgresql", postgresql))
}


def store(session: Session, data: bytes) -> int:
    """The id of the blob holding `data`, created if this hash is new."""
    digest = hashlib.sha256(data).hexdigest()
    insert = _INSERT_NEW[session.get_bind().dialect.name]
    new = execute(session, insert, {"sha256": digest, "size": len(data), "data": data}).scalar()
    if new is not None:
        return new
    return execute(session, _BY_HASH, {"digest": digest}).scalar_one()
