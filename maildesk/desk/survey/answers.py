"""A customer's answer to the survey by mail: a digit 1-5 (a comment may follow), a word
of rating ("非常满意", "satisfied"), or "not solved" (which reopens the ticket).

Pure: text in, Answer out. Anything else is not an answer and stays an
ordinary follow-up (it reopens the resolved ticket, as any follow-up does).
"""

import re
import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class Answer:
    rating: int | None
    solved: bool  # False: the customer says the problem is not solved
    comment: str


# Longest first: "非常不满意" before "不满意" before "满意".
_WORDS = sorted(
    {
        "very satisfied": 5,
        "excellent": 5,
        "satisfied": 4,
        "good": 4,
        "neutral": 3,
        "ok": 3,
        "okay": 3,
        "dissatisfied": 2,
        "unsatisfied": 2,
        "bad": 2,
        "very dissatisfied": 1,
        "very bad": 1,
        "非常满意": 5,
        "很满意": 5,
        "满意": 4,
        "一般": 3,
        "不满意": 2,
        "非常不满意": 1,
        "很不满意": 1,
    }.items(),
    key=lambda item: -len(item[0]),
)
_NOT_SOLVED = re.compile(
    r"^(not (yet )?(solved|resolved|fixed)|still (broken|not working)|"
    r"未解决|没有解决|没解决|问题依旧|还没解决)",
    re.IGNORECASE,
)
_DIGIT = re.compile(r"^([1-5])(?:\s*(?:/\s*5|分|星|stars?))?(?![0-9])[\s,.:;!，。：；！-]*(.*)$")


def parse(text: str) -> Answer | None:
    """The answer in the first lines of `text` (the quotes are already cut off), or None."""
    lines = [line.strip() for line in unicodedata.normalize("NFKC", text).splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        return None
    first, rest = lines[0], "\n".join(lines[1:])
    if _NOT_SOLVED.match(first):
        return Answer(None, False, _join(_NOT_SOLVED.sub("", first, count=1), rest))
    digit = _DIGIT.match(first)
    if digit is not None:
        return Answer(int(digit.group(1)), True, _join(digit.group(2), rest))
    folded = first.casefold()
    for word, rating in _WORDS:
        if folded == word or (folded.startswith(word) and not folded[len(word)].isalpha()):
            return Answer(rating, True, _join(first[len(word) :], rest))
    return None


def _join(*parts: str) -> str:
    return "\n".join(p.strip(" ,.:;!，。：；！-") for p in parts if p.strip(" ,.:;!，。：；！-"))
