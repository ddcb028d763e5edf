"""Mail files for `maildesk import`: mbox files, Maildir folders and .eml files.

Each reader streams raw bytes one mail at a time so memory does not grow
with the size of the import.
"""

import mailbox
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from maildesk.errors import MaildeskError


@dataclass(frozen=True)
class RawMail:
    label: str
    raw: bytes


def is_maildir(path: Path) -> bool:
    return path.is_dir() and (path / "cur").is_dir() and (path / "new").is_dir()


def is_mbox(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(5) == b"From "


def read(path: Path) -> Iterator[RawMail]:
    """Every mail under `path`, in a stable order."""
    if is_maildir(path):
        box = mailbox.Maildir(path, factory=None, create=False)
        for key in sorted(box.keys()):
            with box.get_file(key) as f:
                yield RawMail(f"{path}:{key}", f.read())
    elif path.is_dir():
        for child in sorted(p for p in path.rglob("*.eml") if p.is_file()):
            yield RawMail(str(child), child.read_bytes())
    elif path.is_file() and is_mbox(path):
        box = mailbox.mbox(path, factory=None, create=False)
        try:
            for index, key in enumerate(box.iterkeys()):
                yield RawMail(f"{path}#{index}", box.get_bytes(key))
        finally:
            box.close()
    elif path.is_file():
        yield RawMail(str(path), path.read_bytes())
    else:
        raise MaildeskError(f"{path}: no such file or folder")


def count(path: Path) -> int | None:
    """How many mails `read` will yield, cheaply, for the progress bar; None if unknown."""
    if is_maildir(path):
        return len(mailbox.Maildir(path, factory=None, create=False))
    if path.is_dir():
        return sum(1 for p in path.rglob("*.eml") if p.is_file())
    if path.is_file() and not is_mbox(path):
        return 1
    return None
