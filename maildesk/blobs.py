"""Content-addressed storage of bytes (raw mails, attachments) in the database."""

import hashlib

from sqlalchemy import select
from sqlalchemy.orm import Session

from maildesk.models import Blob


def store(session: Session, data: bytes) -> Blob:
    """The blob holding `data`, created if this hash is new."""
    digest = hashlib.sha256(data).hexdigest()
    blob = session.scalar(select(Blob).where(Blob.sha256 == digest))
    if blob is None:
        blob = Blob(sha256=digest, size=len(data), data=data)
        session.add(blob)
        session.flush()
    return blob
