"""Customer text as plain data in our mail: one printable line, of bounded length.

Display names and subjects are chosen by whoever writes to us. In a header a
line break would start a header of theirs, in a body a paragraph that looks
like ours, and a 10 000-character name would be most of the mail. So runs of
control characters and white space become one space, and long text is cut
with an ellipsis.
"""

import unicodedata

NAME_LIMIT = 80
SUBJECT_LIMIT = 200
ELLIPSIS = "…"


def is_control(ch: str) -> bool:
    """A control, format, surrogate, private-use or unassigned character, or a line break."""
    category = unicodedata.category(ch)
    return category[0] == "C" or category in ("Zl", "Zp")


def one_line(text: str, limit: int) -> str:
    """`text` as one line of at most `limit` characters; a cut one ends in an ellipsis."""
    flat = " ".join("".join(" " if is_control(ch) else ch for ch in text).split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + ELLIPSIS
