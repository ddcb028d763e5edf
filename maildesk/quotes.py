"""The customer's new text: quoted history and signatures cut off. Pure.

Our own reply marker (a line our templates put above the quote) is the most
reliable cut: when it is there, client patterns only count in the few lines
just above it (the client's "On … wrote:" or "From:/Sent:" intro), so the
customer's own text is never cut by a look-alike. Without it, the earliest
client pattern cuts. The full text is always stored as well, so a wrong cut
loses nothing.
"""

import re
from dataclasses import dataclass

REPLY_MARKER = "-- 请在此行以上回复 / reply above this line --"


@dataclass(frozen=True)
class _Cue:
    """A regex and the words one of which a text must contain (lowercased) to match it.

    Testing for the words is a plain substring search; running five
    case-insensitive, line-anchored regexes over every long mail was a fifth
    of parsing (bench/ingest.py).
    """

    words: tuple[str, ...]
    regex: re.Pattern[str]

    def search(self, text: str, lowered: str) -> re.Match[str] | None:
        if any(word in lowered for word in self.words):
            return self.regex.search(text)
        return None


def _cue(words: tuple[str, ...], pattern: str) -> _Cue:
    return _Cue(words, re.compile(pattern, re.M | re.I))


_MARKER = _cue(
    ("请在此行以上回复", "reply above this line"), r"请在此行以上回复|reply above this line"
)
_CLIENT_CUTS = (
    # Outlook, Foxmail, QQ Mail, forwards: a dashed separator line.
    _cue(
        ("original", "原始", "forwarded", "转发"),
        r"^\s*-{2,}\s*(original message|original|原始邮件|原始郵件|forwarded message|转发邮件)"
        r"\s*-{2,}\s*$",
    ),
    # Outlook: a line of underscores above the header block.
    _cue(("_" * 10,), r"^\s*_{10,}\s*$"),
    # Gmail, Apple Mail, Thunderbird: "On … wrote:" (or Le/Am), over at most two lines.
    _cue(
        ("wrote", "écrit", "schrieb"),
        r"^\s*(on|le|am)\s[^\n]{3,200}(\n[^\n]{1,200})?\s"
        r"((wrote|a écrit)\s*|schrieb[^\n]{0,200}):\s*$",
    ),
    # Chinese clients and Gmail in Chinese: "在 … 写道：", "… 于 … 写道：".
    _cue(("写道", "寫道"), r"^[^\n]{0,200}(写道|寫道)\s*[:：]\s*$"),
    # Outlook and Foxmail header block: From then Sent/Date within four lines.
    _cue(
        ("sent", "date", "发送时间", "日期", "gesendet", "envoyé"),
        r"^\s*\**(from|发件人|寄件者|von|de)\**\s*[:：][^\n]*\n([^\n]*\n){0,3}?"
        r"\s*\**(sent|date|发送时间|日期|寄件日期|gesendet|envoyé)\**\s*[:：]",
    ),
)
_SIGNATURE = re.compile(r"^-- ?$", re.M)
_MOBILE_SIGNATURE = re.compile(
    r"^\s*(sent from my|sent from (outlook|mail) for|get outlook for|发自我的|从我的.{1,30}发送)",
    re.I,
)
# With our marker present, a client intro counts only this close above it.
_INTRO_LINES = 8


def strip_quotes(text: str) -> str:
    """The customer's new words: above the quote, without `>` lines and signature."""
    cut = _cut(text)
    new_text = _without_signature(_trim_quoted_tail(text[:cut]))
    if not new_text and cut < len(text):
        new_text = _without_signature(_below_quote(text[cut:]))
    return new_text


def _cut(text: str) -> int:
    """Where the quoted history starts (len(text) when there is none)."""
    marker = _MARKER.search(text, text.lower())
    if marker is None:
        return min((m.start() for m in _client_matches(text)), default=len(text))
    line_start = text.rfind("\n", 0, marker.start()) + 1
    window = _intro_window(text[:line_start])
    intros = [window + m.start() for m in _client_matches(text[window:line_start])]
    return min(intros, default=line_start)


def _client_matches(text: str) -> list[re.Match[str]]:
    lowered = text.lower()
    return [m for cue in _CLIENT_CUTS if (m := cue.search(text, lowered))]


def _intro_window(head: str) -> int:
    """Where the last _INTRO_LINES non-blank lines of `head` begin."""
    size, kept = 0, 0
    for line in reversed(head.splitlines(keepends=True)):
        kept += bool(line.strip())
        if kept > _INTRO_LINES:
            break
        size += len(line)
    return len(head) - size


def _trim_quoted_tail(text: str) -> str:
    lines = text.rstrip().split("\n")
    while lines and (lines[-1].lstrip().startswith(">") or not lines[-1].strip()):
        lines.pop()
    return "\n".join(lines)


def _below_quote(text: str) -> str:
    """Bottom-posting: what follows the last `>` line of the quote."""
    lines = text.rstrip().split("\n")
    last_quoted = max((i for i, line in enumerate(lines) if line.startswith(">")), default=None)
    if last_quoted is None:
        return ""
    return "\n".join(lines[last_quoted + 1 :]).strip()


def _without_signature(text: str) -> str:
    signature = _SIGNATURE.search(text)
    if signature and signature.start() > 0:
        text = text[: signature.start()]
    lines = text.rstrip().split("\n")
    while lines and (not lines[-1].strip() or _MOBILE_SIGNATURE.match(lines[-1])):
        lines.pop()
    return "\n".join(lines).strip()
