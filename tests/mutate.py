"""Seeded mutations of the corpus mails, shared by the fuzz tests and bench/fuzz_daemon.py.

One way to break a mail (truncate, flip, insert, drop a line, CRLF) for hypothesis
(its `randoms()`) and for a plain seeded run of thousands of mails alike.
"""

import random
import re
from collections.abc import Iterable, Iterator

from imap_tools import BaseMailBox
from imap_tools.errors import MailboxAppendError

from tests.conftest import CORPUS

SEEDS = tuple(p.read_bytes() for p in sorted(CORPUS.glob("*.eml")))
_MESSAGE_ID = re.compile(rb"^Message-ID:[^\n]*\n", re.IGNORECASE | re.MULTILINE)


def mutate(raw: bytes, rng: random.Random) -> bytes:
    """`raw` truncated, with bytes flipped, inserted, or lines dropped (up to 4 changes)."""
    mail = bytearray(raw)
    for _ in range(rng.randint(0, 4)):
        if not mail:
            break
        at = rng.randrange(len(mail))
        action = rng.choice(["truncate", "flip", "insert", "drop_line", "crlf"])
        if action == "truncate":
            del mail[at:]
        elif action == "flip":
            mail[at] = rng.randrange(256)
        elif action == "insert":
            mail[at:at] = rng.randbytes(rng.randint(1, 40))
        elif action == "drop_line":
            end = mail.find(b"\n", at)
            del mail[at : end if end >= 0 else len(mail)]
        else:
            mail[:] = mail.replace(b"\n", b"\r\n")
    return bytes(mail)


def seeded_mutations(count: int, seed: int) -> Iterator[bytes]:
    """`count` mutated corpus mails, each given a Message-ID of its own first (mail `n`:
    <fuzz-n@fuzz.example>), so that most are new mail rather than duplicates."""
    rng = random.Random(seed)
    for n in range(count):
        own_id = b"Message-ID: <fuzz-%d@fuzz.example>\n" % n
        raw = _MESSAGE_ID.sub(b"", rng.choice(SEEDS), count=1)
        yield mutate(own_id + raw, rng)


def append_each(box: BaseMailBox, raws: Iterable[bytes]) -> tuple[int, int]:
    """APPEND each mail to INBOX; (appended, refused). A mutation the server will not take
    (an empty mail, NUL bytes) is counted, not raised: it never reached us."""
    appended = refused = 0
    for raw in raws:
        try:
            box.append(raw, "INBOX", flag_set=())
            appended += 1
        except MailboxAppendError:
            refused += 1
    return appended, refused
