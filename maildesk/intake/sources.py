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
        for index, raw in enumerate(mbox_messages(path)):
            yield RawMail(f"{path}#{index}", raw)
    elif path.is_file():
        yield RawMail(str(path), path.read_bytes())
    else:
        raise MaildeskError(f"{path}: no such file or folder")


def mbox_messages(path: Path) -> Iterator[bytes]:
    """Messages of an mbox file, read line by line.

    The stdlib mailbox.mbox indexes the whole file before the first message;
    this streams. A message starts at a `From ` line that follows a blank
    line (or opens the file); that blank line is the separator, not content.
    """
    with path.open("rb") as f:
        lines: list[bytes] = []
        after_blank = True
        for line in f:
            if after_blank and line.startswith(b"From "):
                if lines:
                    yield b"".join(lines[:-1])
                lines = []
            else:
                lines.append(line)
            after_blank = line in (b"\n", b"\r\n")
        if lines:
            yield b"".join(lines[:-1] if after_blank else lines)


def count(path: Path) -> int | None:
    """How many mails `read` will yield, cheaply, for the progress bar; None if unknown."""
    if is_maildir(path):
        return len(mailbox.Maildir(path, factory=None, create=False))
    if path.is_dir():
        return sum(1 for p in path.rglob("*.eml") if p.is_file())
    if path.is_file() and not is_mbox(path):
        return 1
    return None
