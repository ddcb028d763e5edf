"""Content-addressed storage of bytes (raw mails, attachments) in the database.

One blob may hold the bytes of several rows (the same logo on many tickets, a
mail fetched twice): a blob is removed only once no row points at it.
"""

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import bindparam, delete, exists, select
from sqlalchemy.orm import Session

from maildesk.store.db import InsertOrSkip, execute
from maildesk.store.intake_tables import Quarantine
from maildesk.store.tables import Attachment, Blob, Message

_BY_HASH = select(Blob.id).where(Blob.sha256 == bindparam("digest"))
# One statement for a new blob, and two workers storing the same bytes at once
# both get its id instead of one failing.
_INSERT_NEW = InsertOrSkip(Blob.__table__, ["sha256"], returning=[Blob.__table__.c.id])
_INSERT_MANY = InsertOrSkip(
    Blob.__table__, ["sha256"], returning=[Blob.__table__.c.sha256, Blob.__table__.c.id]
)
_BY_HASHES = select(Blob.sha256, Blob.id).where(
    Blob.sha256.in_(bindparam("digests", expanding=True))
)
STATEMENT_BYTES = 8 * 1024 * 1024  # the bytes one statement of store_many carries at most


def store(session: Session, data: bytes) -> int:
    """The id of the blob holding `data`, created if this hash is new."""
    digest = hashlib.sha256(data).hexdigest()
    new = _INSERT_NEW(session, {"sha256": digest, "size": len(data), "data": data}).scalar()
    if new is not None:
        return new
    return execute(session, _BY_HASH, {"digest": digest}).scalar_one()


def drop_unused(session: Session, ids: Iterable[int | None]) -> int:
    """Delete those of the blobs `ids` that no message, attachment or quarantined mail
    points at any more (their rows' references were just cleared); how many went.

    A quarantined mail that was replayed is on its ticket now: its quarantine row
    goes with the bytes, or it would keep them for ever.
    """
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return 0
    in_use = [
        exists().where(Message.raw_id == Blob.id),
        exists().where(Attachment.blob_id == Blob.id),
    ]
    unused = select(Blob.id).where(Blob.id.in_(wanted), *(~used for used in in_use))
    replayed = Quarantine.replayed_at.is_not(None), Quarantine.raw_id.in_(unused)
    execute(session, delete(Quarantine).where(*replayed))
    waiting = exists().where(Quarantine.raw_id == Blob.id)
    gone = delete(Blob).where(Blob.id.in_(wanted), *(~used for used in in_use), ~waiting)
    return execute(session, gone).rowcount


def store_many(session: Session, datas: Sequence[bytes]) -> list[int]:
    """The ids of the blobs holding each of `datas`, in order: a statement per
    STATEMENT_BYTES of new bytes, and one for those stored before (intake's batch)."""
    digests = [hashlib.sha256(data).hexdigest() for data in datas]
    new = {
        digest: {"sha256": digest, "size": len(data), "data": data}
        for digest, data in zip(digests, datas, strict=True)
    }
    ids: dict[str, int] = {}
    for rows in _by_size(list(new.values())):
        ids.update((digest, id_) for digest, id_ in _INSERT_MANY(session, rows))
    stored_before = [d for d in new if d not in ids]
    if stored_before:
        found = execute(session, _BY_HASHES, {"digests": stored_before})
        ids.update((digest, id_) for digest, id_ in found)
    return [ids[d] for d in digests]


Row = dict[str, Any]


def _by_size(rows: list[Row]) -> Iterator[list[Row]]:
    """`rows` in groups of at most STATEMENT_BYTES of data (one row may be larger)."""
    group: list[Row] = []
    size = 0
    for row in rows:
        if group and size + row["size"] > STATEMENT_BYTES:
            yield group
            group, size = [], 0
        group.append(row)
        size += row["size"]
    if group:
        yield group
