"""Where the sender's words end and their signature begins. Pure.

The delimiter is "-- " (RFC 3676), also indented or with a no-break space
in text converted from HTML. A bare "--" is a line people write for other
things too (grep's group separator in a pasted log, a rule between two
parts of a mail), and text converted from HTML loses the space; so a bare
"--" counts only when it is the text's one bare "--", above a short tail
that looks like a signature, at the end.
Neither counts inside a fenced (```) block or between lines of pasted output.
"""

import re
from bisect import bisect
from collections.abc import Iterator

# Two dashes that end a line, and the space after them that makes RFC 3676's
# delimiter, with only spaces before them on their line. (Starting with
# the literal lets the regex engine skip to each "--"; one anchored at every
# line start costs more than the rest of quote stripping.)
_DASHES = re.compile(r"--([^\S\n]*)$", re.M)
_FENCE = re.compile(r"^[^\S\n]*(```|~~~)", re.M)
# A line of log output or code: a time of day, grep -n's "file:12:" or "file-12-",
# a log level, a stack trace, a statement or a block's brace at its end, a prompt.
_PASTED = re.compile(
    r"\d\d:\d\d(:\d\d)?|^[^\s:]+[:-]\d+[:-]|\b(ERROR|WARN(ING)?|INFO|DEBUG|TRACE|FATAL)\b"
    r"|Traceback|Exception\b|^\s+at |[{};]\s*$|^\s*(\$|#|>>>) |==|!=|->|=>",
)
_MOBILE_SIGNATURE = re.compile(
    r"^\s*(sent from my|sent from (outlook|mail) for|get outlook for|发自我的|从我的.{1,30}发送)",
    re.I,
)
# A signature after a bare "--": at most this many lines, each at most this long.
TAIL_LINES = 6
_TAIL_LINE_CHARS = 80
# How far around a dashed line its neighbours are looked for.
_NEAR = 400


def without_signature(text: str, trailing: bool = False) -> str:
    """`text` without its signature block and the mobile footer lines at its end.

    The block runs from a delimiter line to the end of `text`: given the text
    above a quote, the first delimiter is where the words end and the
    signature sits between them and the quote. With `trailing`, only the last
    delimiter counts and only above a short signature: for a text that goes
    on past a forward whose sender signed it above the customer's own words.
    """
    delimiters = _delimiters(text, trailing)
    start = next(delimiters, None) if not trailing else max(delimiters, default=None)
    if start is not None:
        text = text[:start]
    lines = text.rstrip().split("\n")
    while lines and (not lines[-1].strip() or _MOBILE_SIGNATURE.match(lines[-1])):
        lines.pop()
    return "\n".join(lines).strip()


def _delimiters(text: str, trailing: bool) -> Iterator[int]:
    """Where each line that starts a signature starts, in order."""
    if "--" not in text:
        return
    fenced = "```" in text or "~~~" in text
    fences = [fence.start() for fence in _FENCE.finditer(text)] if fenced else []
    lines = [(_line_start(text, dashes.start()), dashes) for dashes in _DASHES.finditer(text)]
    lines = [
        (start, dashes) for start, dashes in lines if not text[start : dashes.start()].strip()
    ]
    separators = sum(not dashes[1] for _, dashes in lines) > 1  # bare lines dividing the text
    for start, dashes in lines:
        if bisect(fences, start) % 2 or _pasted(text, start, dashes.end()):
            continue
        if dashes[1] and not trailing:
            yield start  # RFC 3676's delimiter
        elif (dashes[1] or not separators) and _signature_like(text, dashes.end()):
            yield start


def _line_start(text: str, at: int) -> int:
    return text.rfind("\n", 0, at) + 1


def _pasted(text: str, start: int, end: int) -> bool:
    """Whether the lines next to start..end (blank ones skipped) are both log output or code.

    Each looks at a bounded stretch of text, so many dashed lines cost linear time.
    """
    before = text[max(start - _NEAR, 0) : start].rstrip().rpartition("\n")[2]
    after = text[end : end + _NEAR].lstrip().partition("\n")[0]
    return bool(before and after and _PASTED.search(before) and _PASTED.search(after))


def _signature_like(text: str, start: int) -> bool:
    """Whether text[start:] is a few short lines with no log, code or dashed line in them."""
    if len(text) - start > TAIL_LINES * (_TAIL_LINE_CHARS + 8):
        return False
    lines = [line for line in text[start:].split("\n") if line.strip()]
    return len(lines) <= TAIL_LINES and not any(
        len(line.strip()) > _TAIL_LINE_CHARS or _PASTED.search(line) or line.strip() == "--"
        for line in lines
    )
