"""Line patterns that mark where quoted history or a forwarded mail starts, found in linear time.

Each pattern is tried only at the start of a non-blank line and sees only the
few lines below that its intro can cover. (Line-anchored regexes over the
whole text rescanned runs of blank lines from every line: a 90 KB mail took
38 s.)
"""

import html
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Cue:
    """A regex, the words one of which the text must contain (lowercased) to try it,
    and how many non-blank lines below its first one the regex may reach.

    Testing for the words is a plain substring search; trying a dozen
    case-insensitive regexes on every line of a long mail would cost more
    than the rest of parsing (bench/ingest.py).
    """

    words: tuple[str, ...]
    regex: re.Pattern[str]
    reach: int = 0
    ascii_words: tuple[str, ...] = ()  # the words an ASCII text can hold

    def wanted(self, lowered: str) -> bool:
        # CPython knows whether a str is ASCII without looking at it.
        words = self.ascii_words if lowered.isascii() else self.words
        return any(word in lowered for word in words)


def cue(words: tuple[str, ...], pattern: str, reach: int = 0) -> Cue:
    ascii_words = tuple(word for word in words if word.isascii())
    return Cue(words, re.compile(pattern, re.M | re.I), reach, ascii_words)


# A non-blank line: `[^\S\n]` is a space that is not a newline, so a match
# never runs on into the next line and one pass over the text finds them all.
_FILLED_LINE = re.compile(r"^[^\S\n]*\S[^\n]*", re.M)
# An HTML entity a client left in its plain text ("------&nbsp;原始邮件&nbsp;------").
_ENTITY = re.compile(r"&(#\d{1,7}|#x[0-9a-f]{1,6}|[a-z][a-z0-9]{1,31});", re.I)


@dataclass(frozen=True)
class Lines:
    """The searched text's non-blank lines, found once: where each starts and ends."""

    text: str
    starts: list[int]
    ends: list[int]

    @classmethod
    def of(cls, text: str) -> "Lines":
        spans = [line.span() for line in _FILLED_LINE.finditer(text)]
        return cls(text, [start for start, _ in spans], [end for _, end in spans])

    def first(self, cues: tuple[Cue, ...], first: int, stop: int) -> tuple[int, Cue] | None:
        """The first line of first..stop-1 (non-blank lines) where a cue matches, and the cue.

        A regex sees its line and the ones below up to its reach, never past
        the non-blank line stop-1; so a line is in at most a few regexes'
        view, and the search is linear.
        """
        for k in range(first, stop):
            for each in cues:
                end = self.ends[min(k + each.reach, stop - 1)]
                if each.regex.match(self.text, self.starts[k], end):
                    return self.starts[k], each
        return None


def entities_decoded(text: str) -> str:
    """`text` with its HTML entities decoded, line for line (none decodes to a line break)."""
    if "&" not in text:
        return text
    return _ENTITY.sub(_entity, text)


def _entity(match: re.Match[str]) -> str:
    decoded = html.unescape(match[0])
    return match[0] if "\n" in decoded or "\r" in decoded else decoded


def line_start(text: str, decoded: str, at: int) -> int:
    """Where in `text` the line starts that starts at `at` in its `decoded` form."""
    if decoded is text:
        return at
    position = 0
    for _ in range(decoded.count("\n", 0, at)):
        position = text.index("\n", position) + 1
    return position
