"""The customer's new text: quoted history and signatures cut off, forwards kept. Pure.

Our own reply marker (a line our templates put above the quote) is the most
reliable cut: when it is there, client patterns only count in the few lines
just above it (the client's "On … wrote:" or "From:/Sent:" intro), so the
customer's own text is never cut by a look-alike. Without it, the earliest
client pattern cuts. A forward is no history (forwards.py): from its first
line on, the forwarded mail stays in the new text, marked. The full text is
always stored as well, so a wrong cut loses nothing.

The search is linear in the size of the mail (cues.py), and only the first
SCAN_LIMIT characters are searched at all.
"""

import re
from bisect import bisect_left

from maildesk.mail import forwards
from maildesk.mail.cues import Lines, cue, entities_decoded, line_start
from maildesk.mail.signatures import without_signature

REPLY_MARKER = "-- 请在此行以上回复 / reply above this line --"

# Only this many characters at the top of a mail are searched for the quote's
# start. The customer's words and the intro of the quote sit at the top; a
# longer text is a pasted log or a forwarded archive, which a cut that deep
# would hardly shorten, and the bound keeps one hostile mail from holding the
# parse worker. The text past it is kept (and the full text is stored anyway).
SCAN_LIMIT = 256 * 1024

_MARKER = cue(
    ("请在此行以上回复", "reply above this line"), r"请在此行以上回复|reply above this line"
)
# Each regex is matched at the start of a non-blank line and sees the lines
# below it up to its `reach`-th non-blank one: as far as its `\s` and `\n` can go.
# A reply's intro: history, whatever the subject.
_INTROS = (
    # Gmail, Apple Mail, Thunderbird: "On … wrote:" (or Le/Am), over two or three lines.
    cue(
        ("wrote", "écrit", "schrieb"),
        r"\s*(on|le|am)\s[^\n]{3,200}(\n[^\n]{1,200})?\s"
        r"((wrote|a écrit)\s*|schrieb[^\n]{0,200}):\s*$",
        reach=4,
    ),
    # Chinese clients and Gmail in Chinese: "在 … 写道：", "… 于 … 写道：".
    cue(("写道", "寫道"), r"[^\n]{0,200}(写道|寫道)\s*[:：]\s*$", reach=1),
)
# A header block: above the history of a reply, or above the mail a forward carries.
_HEADER_BLOCKS = (
    # Outlook, Foxmail, QQ Mail: a dashed separator line.
    cue(
        ("original", "原始"),
        r"\s*-{2,}\s*(original message|original|原始邮件|原始郵件)\s*-{2,}\s*$",
        reach=2,
    ),
    # Outlook: a line of underscores above the header block.
    cue(("_" * 10,), r"\s*_{10,}\s*$"),
    # DingTalk and Alimail: a long dashed line right above the From line.
    cue(("-" * 20,), r"\s*-{20,}\s*\n\s*\**(from|发件人|寄件人)\**\s*[:：]", reach=1),
    # Outlook and Foxmail header block: From then Sent/Date within four lines.
    cue(
        ("sent", "date", "发送时间", "日期", "gesendet", "envoyé"),
        r"\s*\**(from|发件人|寄件者|von|de)\**\s*[:：][^\n]*\n([^\n]*\n){0,3}?"
        r"\s*\**(sent|date|发送时间|日期|寄件日期|gesendet|envoyé)\**\s*[:：]",
        reach=5,
    ),
)
# (where a forwarded mail starts, where history starts) in a reply and in a forward
_REPLY_CUES = (forwards.CUES, _INTROS + _HEADER_BLOCKS)
_FORWARD_CUES = (forwards.CUES + _HEADER_BLOCKS, _INTROS)
_QUOTED_LINE = re.compile(r"^[^\S\n]*>", re.M)
# A line quoted with `>` or the line of our reply marker, with its newline.
_NOT_OWN_LINE = re.compile(
    r"^([^\S\n]*>|[^\n]*(请在此行以上回复|reply above this line))[^\n]*\n?", re.M | re.I
)
# A letter or a digit, in any script: what makes a text more than punctuation.
_WORD = re.compile(r"[^\W_]")
# With our marker present, a client intro counts only this close above it.
_INTRO_LINES = 8


def strip_quotes(text: str, forward: bool = False) -> str:
    """The customer's new words: above the quote, without `>` lines and signature,
    and the mail they forward, marked (`forward`: the subject says the mail is one,
    so a header block is what it forwards).

    A cut never leaves nothing of what the customer wrote. When the text above
    the quote holds no word (a letter or digit) once its signature is gone, the
    first of these that does is kept: the unquoted lines below the quote's
    first `>` line (an inline reply inside the quote); the text above the
    quote with its signature (a reply that is only a signature); what is above
    the quote even without a word ("👍"); all the lines that are not quoted,
    without and then with a signature (a note below a forward, a sentence that
    only looks like an intro). Only a mail with no word outside the quote gives "".
    """
    cut, forwarded = _cuts(text, forward)
    if forwarded is None:
        return _own_words(text, cut)
    note = without_signature(_trim_quoted_tail(text[:forwarded]))
    block = without_signature(text[forwarded:cut], trailing=True)
    return f"{note}\n\n{forwards.forwarded(block)}".strip()


def _own_words(text: str, cut: int) -> str:
    above = _trim_quoted_tail(text[:cut])
    own = without_signature(above)
    if _WORD.search(own):
        return own
    if cut < len(text):
        answers = without_signature(_below_quote(text[cut:]), trailing=True)
        if _WORD.search(answers):
            return answers
    if _WORD.search(above):
        return above.strip()
    if own:
        return own
    unquoted = _unquoted(text)
    for kept in (without_signature(unquoted, trailing=True), unquoted):
        if _WORD.search(kept):
            return kept
    return ""


def _cuts(text: str, forward: bool) -> tuple[int, int | None]:
    """Where the quoted history starts (len(text) when there is none), and where a
    forwarded mail starts above it (None when there is none).

    The lines are searched with HTML entities decoded (QQ Mail's plain text
    has "&nbsp;" in its separator); what is found is mapped back to `text`.
    """
    head = _scanned(text)
    searched = entities_decoded(head)
    lowered = searched.lower()
    starts, quotes = _FORWARD_CUES if forward else _REPLY_CUES
    forward_cues = tuple(each for each in starts if each.wanted(lowered))
    quote_cues = tuple(each for each in quotes if each.wanted(lowered))
    marker = _MARKER.regex.search(searched) if _MARKER.wanted(lowered) else None
    if marker is None and not forward_cues and not quote_cues:
        return len(text), None
    lines = Lines.of(searched)
    if marker is None:
        found = lines.first(forward_cues + quote_cues, 0, len(lines.starts))
        if found is None:
            return len(text), None
        at = line_start(head, searched, found[0])
        return (len(text), at) if found[1] in forward_cues else (at, None)
    marker_line = searched.rfind("\n", 0, marker.start()) + 1
    above = bisect_left(lines.starts, marker_line)
    fwd = lines.first(forward_cues, 0, above)
    # The intro of the reply comes below the forwarded mail's own header lines.
    after = 0 if fwd is None else bisect_left(lines.starts, fwd[0]) + 2
    intro = lines.first(quote_cues, max(above - _INTRO_LINES, after), above)
    cut = line_start(head, searched, marker_line if intro is None else intro[0])
    return cut, None if fwd is None else line_start(head, searched, fwd[0])


def _scanned(text: str) -> str:
    """The whole lines of `text` within its first SCAN_LIMIT characters."""
    if len(text) <= SCAN_LIMIT:
        return text
    return text[: text.rfind("\n", 0, SCAN_LIMIT) + 1]


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
