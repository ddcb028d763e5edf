"""The customer's new text: quoted history and signatures cut off. Pure.

Our own reply marker (a line our templates put above the quote) is the most
reliable cut; after it come the patterns of common clients. The full text is
always stored as well, so a wrong cut loses nothing.
"""

import re

REPLY_MARKER = "-- 请在此行以上回复 / reply above this line --"

_CUTS = tuple(
    re.compile(pattern, re.M | re.I)
    for pattern in (
        r"^.*请在此行以上回复.*$|^.*reply above this line.*$",
        r"^-{2,}\s*(original message|原始邮件|原始郵件|forwarded message)\s*-{2,}\s*$",
        r"^\s*_{10,}\s*$",
        r"^(on|le|am)\s.{5,200}\s(wrote|a écrit|schrieb)\s*:\s*$",
        r"^\s*在\s?.{4,80}写道[:：]\s*$",
        r"^\s*(from|发件人|寄件者)\s*[:：].*\n(.*\n){0,3}\s*(sent|date|发送时间|日期|寄件日期)\s*[:：]",
    )
)
_SIGNATURE = re.compile(r"^-- ?$", re.M)


def strip_quotes(text: str) -> str:
    """Text above the first quote marker, minus trailing `>` lines and signature."""
    cut = len(text)
    for pattern in _CUTS:
        match = pattern.search(text)
        if match and match.start() < cut:
            cut = match.start()
    lines = text[:cut].rstrip().split("\n")
    while lines and (lines[-1].startswith(">") or not lines[-1].strip()):
        lines.pop()
    new_text = "\n".join(lines)
    signature = _SIGNATURE.search(new_text)
    if signature and signature.start() > 0:
        new_text = new_text[: signature.start()]
    return new_text.strip()
