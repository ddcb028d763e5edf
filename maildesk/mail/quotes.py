"""The customer's new text: quoted history and signatures cut off. Pure.

Our own reply marker (a line our templates put above the quote) is the most
reliable cut: when it is there, client patterns only count in the few lines
just above it (the client's "On … wrote:" or "From:/Sent:" intro), so the
customer's own text is never cut by a look-alike. Without it, the earliest
client pattern cuts. The full text is always stored as well, so a wrong cut
loses nothing.

The search is linear in the size of the mail: the non-blank lines are found
in one pass, each client pattern is tried only at the start of one and sees
only the few lines below that its intro can cover, and only the first
SCAN_LIMIT characters are searched at all. (Line-anchored regexes over the
whole text rescanned runs of blank lines from every line: a 90 KB mail took
38 s.)
"""

import re
from bisect import bisect_left
from dataclasses import dataclass

REPLY_MARKER = "-- 请在此行以上回复 / reply above this line --"

# Only this many characters at the top of a mail are searched for the quote's
# start. The customer's words and the intro of the quote sit at the top; a
# longer text is a pasted log or a forwarded archive, which a cut that deep
# would hardly shorten, and the bound keeps one hostile mail from holding the
# parse worker. The text past it is kept (and the full text is stored anyway).
SCAN_LIMIT = 256 * 1024


@dataclass(frozen=True)
class _Cue:
    """A regex, the words one of which the text must contain (lowercased) to try it,
    and how many non-blank lines below its first one the regex may reach.

    Testing for the words is a plain substring search; trying five
    case-insensitive regexes on every line of a long mail would cost more
    than the rest of parsing (bench/ingest.py).
    """

    words: tuple[str, ...]
    regex: re.Pattern[str]
    reach: int = 0

    def wanted(self, lowered: str) -> bool:
        return any(word in lowered for word in self.words)


def _cue(words: tuple[str, ...], pattern: str, reach: int = 0) -> _Cue:
    return _Cue(words, re.compile(pattern, re.M | re.I), reach)


_MARKER = _cue(
    ("请在此行以上回复", "reply above this line"), r"请在此行以上回复|reply above this line"
)
# Each regex is matched at the start of a non-blank line and sees the lines
# below it up to its `reach`-th non-blank one: as far as its `\s` and `\n` can go.
_CLIENT_CUTS = (
    # Outlook, Foxmail, QQ Mail, forwards: a dashed separator line.
    _cue(
        ("original", "原始", "forwarded", "转发"),
        r"\s*-{2,}\s*(original message|original|原始邮件|原始郵件|forwarded message|转发邮件)"
        r"\s*-{2,}\s*$",
        reach=2,
    ),
    # Outlook: a line of underscores above the header block.
    _cue(("_" * 10,), r"\s*_{10,}\s*$"),
    # Gmail, Apple Mail, Thunderbird: "On … wrote:" (or Le/Am), over two or three lines.
    _cue(
        ("wrote", "écrit", "schrieb"),
        r"\s*(on|le|am)\s[^\n]{3,200}(\n[^\n]{1,200})?\s"
        r"((wrote|a écrit)\s*|schrieb[^\n]{0,200}):\s*$",
        reach=4,
    ),
    # Chinese clients and Gmail in Chinese: "在 … 写道：", "… 于 … 写道：".
    _cue(("写道", "寫道"), r"[^\n]{0,200}(写道|寫道)\s*[:：]\s*$", reach=1),
    # Outlook and Foxmail header block: From then Sent/Date within four lines.
    _cue(
        ("sent", "date", "发送时间", "日期", "gesendet", "envoyé"),
        r"\s*\**(from|发件人|寄件者|von|de)\**\s*[:：][^\n]*\n([^\n]*\n){0,3}?"
        r"\s*\**(sent|date|发送时间|日期|寄件日期|gesendet|envoyé)\**\s*[:：]",
        reach=5,
    ),
)
# A signature delimiter line: "-- " (RFC 3676), often sent without the space;
# indented or with a no-break space in text converted from HTML.
_SIGNATURE = re.compile(r"^[^\S\n]*--[^\S\n]*$", re.M)
_MOBILE_SIGNATURE = re.compile(
    r"^\s*(sent from my|sent from (outlook|mail) for|get outlook for|发自我的|从我的.{1,30}发送)",
    re.I,
)
_QUOTED_LINE = re.compile(r"^[^\S\n]*>", re.M)
# A line quoted with `>` or the line of our reply marker, with its newline.
_NOT_OWN_LINE = re.compile(
    r"^([^\S\n]*>|[^\n]*(请在此行以上回复|reply above this line))[^\n]*\n?", re.M | re.I
)
# A letter or a digit, in any script: what makes a text more than punctuation.
_WORD = re.compile(r"[^\W_]")
# A non-blank line: `[^\S\n]` is a space that is not a newline, so a match
# never runs on into the next line and one pass over the text finds them all.
_FILLED_LINE = re.compile(r"^[^\S\n]*\S[^\n]*", re.M)
# With our marker present, a client intro counts only this close above it.
_INTRO_LINES = 8


@dataclass(frozen=True)
class _Lines:
    """The searched text's non-blank lines, found once: where each starts and ends."""

    text: str
    starts: list[int]
    ends: list[int]

    @classmethod
    def of(cls, text: str) -> "_Lines":
        spans = [line.span() for line in _FILLED_LINE.finditer(text)]
        return cls(text, [start for start, _ in spans], [end for _, end in spans])


def strip_quotes(text: str) -> str:
    """The customer's new words: above the quote, without `>` lines and signature.

    A cut never leaves nothing of what the customer wrote. When the text above
    the quote holds no word (a letter or digit) once its signature is gone, the
    first of these that does is kept: the unquoted lines below the quote's
    first `>` line (an inline reply inside the quote); the text above the
    quote with its signature (a reply that is only a signature); what is above
    the quote even without a word ("👍"); all the lines that are not quoted,
    without and then with a signature (a forward with the note below it, a
    sentence that only looks like an intro). Only a mail with no word outside
    the quote gives "".
    """
    cut = _cut(text)
    above = _trim_quoted_tail(text[:cut])
    own = _without_signature(above)
    if _WORD.search(own):
        return own
    if cut < len(text):
        answers = _without_signature(_below_quote(text[cut:]), last=True)
        if _WORD.search(answers):
            return answers
    if _WORD.search(above):
        return above.strip()
    if own:
        return own
    unquoted = _unquoted(text)
    for kept in (_without_signature(unquoted, last=True), unquoted):
        if _WORD.search(kept):
            return kept
    return ""


def _cut(text: str) -> int:
    """Where the quoted history starts (len(text) when there is none)."""
    head = _scanned(text)
    lowered = head.lower()
    cues = tuple(cue for cue in _CLIENT_CUTS if cue.wanted(lowered))
    marker = _MARKER.regex.search(head) if _MARKER.wanted(lowered) else None
    if marker is None and not cues:
        return len(text)
    lines = _Lines.of(head)
    if marker is None:
        intro = _first_intro(lines, cues, 0, len(lines.starts))
        return len(text) if intro is None else intro
    marker_line = head.rfind("\n", 0, marker.start()) + 1
    above = bisect_left(lines.starts, marker_line)
    intro = _first_intro(lines, cues, max(above - _INTRO_LINES, 0), above)
    return marker_line if intro is None else intro


def _scanned(text: str) -> str:
    """The whole lines of `text` within its first SCAN_LIMIT characters."""
    if len(text) <= SCAN_LIMIT:
        return text
    return text[: text.rfind("\n", 0, SCAN_LIMIT) + 1]


def _first_intro(lines: _Lines, cues: tuple[_Cue, ...], first: int, stop: int) -> int | None:
    """Where the first client intro starts among non-blank lines first..stop-1.

    A regex sees its line and the ones below up to its reach, never past the
    non-blank line stop-1; so a line is in at most a few regexes' view, and
    the search is linear.
    """
    for k in range(first, stop):
        for cue in cues:
            end = lines.ends[min(k + cue.reach, stop - 1)]
            if cue.regex.match(lines.text, lines.starts[k], end):
                return lines.starts[k]
    return None


def _trim_quoted_tail(text: str) -> str:
    lines = text.rstrip().split("\n")
    while lines and (lines[-1].lstrip().startswith(">") or not lines[-1].strip()):
        lines.pop()
    return "\n".join(lines)


def _below_quote(text: str) -> str:
    """Bottom-posting and inline replies: the unquoted lines below the first `>` line."""
    first = _QUOTED_LINE.search(text)
    return "" if first is None else _unquoted(text[first.start() :])


def _unquoted(text: str) -> str:
    """The lines of `text` that are neither quoted with `>` nor our reply marker's."""
    return _NOT_OWN_LINE.sub("", text).strip()


def _without_signature(text: str, last: bool = False) -> str:
    """`text` without its signature block and the mobile footer lines at its end.

    The block runs from a delimiter line ("-- ", also indented or with a
    no-break space, as text converted from HTML has it) to the end of `text`:
    given the text above the quote, that is the signature between the
    customer's words and the quote, and the words above it stay. With `last`
    the last delimiter counts, for a text that runs on past a forward whose
    sender signed it above the customer's own words.
    """
    starts = (delimiter.start() for delimiter in _SIGNATURE.finditer(text))
    start = max(starts, default=None) if last else next(starts, None)
    if start is not None:
        text = text[:start]
    lines = text.rstrip().split("\n")
    while lines and (not lines[-1].strip() or _MOBILE_SIGNATURE.match(lines[-1])):
        lines.pop()
    return "\n".join(lines).strip()
