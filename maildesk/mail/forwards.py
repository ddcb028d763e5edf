"""Forwarded mail: for the desk new content, never quoted history. Pure.

A customer forwards the error mail they got: Gmail's "---------- Forwarded
message ---------", Apple Mail's "Begin forwarded message:", Thunderbird's
and Yahoo's dashed lines, Lotus Notes' "----- Forwarded by …", NetEase's
"-------- 转发邮件信息 --------", or the mail attached as message/rfc822.
Outlook, QQ Mail and Foxmail forward under the same header block they reply
above ("-----Original Message-----", "原始邮件", From/Sent); only the subject
("FW:", "Fwd:", "转发:") tells which it is. The forwarded mail stays in the new
text under one mark line, with its From/Date/Subject lines.
"""

import re

from maildesk.mail.cues import cue

FORWARDED = "[转发的邮件 / forwarded message]"

# A subject's first prefix, after any [tags]: a forward's (English, German
# WG, French TR, Spanish RV, Chinese) or a reply's; the first one decides.
_PREFIX = re.compile(
    r"^\s*(\[[^\]]{0,80}\]\s*)*(fwd?|wg|tr|rv|转发|轉發|转寄|轉寄|re|aw|sv|回复|回覆|答复)\s*[:：]",
    re.I,
)
_FORWARD_PREFIXES = {"fw", "fwd", "wg", "tr", "rv", "转发", "轉發", "转寄", "轉寄"}

# Lines that say "forwarded" in words: a forward whatever the subject.
CUES = (
    # Gmail, Thunderbird, Yahoo, NetEase: a dashed line naming the forward (also in
    # German, French, Spanish and Chinese); Yahoo's plain text runs the header on after it.
    cue(
        ("forward", "weitergeleitet", "transféré", "reenviado", "转发", "轉寄"),
        r"[^\S\n]*-{2,}[^\S\n]*(forwarded message|forwarding messages?|original forwarded message"
        r"|weitergeleitete nachricht|message transféré|mensaje reenviado"
        r"|转发的邮件|转发邮件信息|转发邮件|转发的消息|已轉寄郵件|轉寄郵件)[^\S\n]*-{2,}[^\n]*$",
    ),
    # Lotus Notes: "----- Forwarded by Name/Org on 11/23/2026 10:00 AM -----".
    cue(("forwarded by",), r"[^\S\n]*-{2,}[^\S\n]*forwarded by [^\n]{1,200}?-{2,}[^\S\n]*$"),
    # Apple Mail and iOS: "Begin forwarded message:", in Chinese "转发的邮件：".
    cue(
        ("forwarded message", "转发的邮件"),
        r"[^\S\n]*(begin forwarded message|开始转发的邮件|以下是转发的邮件|转发的邮件)"
        r"[^\S\n]*[:：][^\S\n]*$",
    ),
)


def is_forward(subject: str) -> bool:
    """Whether the subject's first prefix is a forward's ("Fwd: Re: x" is, "Re: Fwd: x" not)."""
    found = _PREFIX.match(subject)
    return found is not None and found[2].lower() in _FORWARD_PREFIXES


def forwarded(block: str) -> str:
    """A forwarded mail (its header lines, its words) as the new text shows it: marked."""
    return f"{FORWARDED}\n{block.strip()}"
