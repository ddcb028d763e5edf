"""Delivery status notifications (RFC 3464): who did not get the mail, and why. Pure.

`message.py` finds the returned message's headers and calls this, in the
parse child, for the per-recipient fields (Original-/Final-Recipient, Action, Status,
Diagnostic-Code) that say which address failed, and Exim's
X-Failed-Recipients for bounces without a report.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from email.utils import getaddresses

FAILED = "failed"


@dataclass(frozen=True)
class Report:
    """One recipient's line of a delivery report."""

    final: str
    original: str = ""
    action: str = FAILED
    status: str = ""
    diagnostic: str = ""

    @property
    def permanent(self) -> bool:
        """A failure, not a delay or a relay notice (4.x.x is temporary)."""
        if self.action:
            return self.action == FAILED
        return not self.status.startswith("4")

    def names(self, address: str) -> bool:
        return address.lower() in (self.final, self.original)

    def reason(self) -> str:
        return " ".join(part for part in (self.action, self.status, self.diagnostic) if part)


def reports(msg: Message) -> tuple[Report, ...]:
    """Per-recipient reports of a bounce; empty when it carries none."""
    found = [
        _report(block)
        for part in _own_parts(msg)
        if part.get_content_type() == "message/delivery-status"
        for block in _blocks(part)
        if block.get("final-recipient")
    ]
    return tuple(found) or _failed_recipients(msg)


def _own_parts(msg: Message) -> Iterator[Message]:
    """The parts of the bounce itself, not of mail attached to it: the returned copy of
    our mail may quote another report, which says nothing of ours."""
    yield msg
    if msg.is_multipart() and msg.get_content_maintype() != "message":
        for part in msg.get_payload():
            if isinstance(part, Message):
                yield from _own_parts(part)


def _blocks(part: Message) -> list[Message]:
    payload = part.get_payload()
    return (
        [block for block in payload if isinstance(block, Message)]
        if isinstance(payload, list)
        else []
    )


def _report(block: Message) -> Report:
    return Report(
        final=_address(block.get("final-recipient")),
        original=_address(block.get("original-recipient")),
        action=_value(block.get("action")).lower(),
        status=_value(block.get("status")),
        diagnostic=_typed(block.get("diagnostic-code")),
    )


def _failed_recipients(msg: Message) -> tuple[Report, ...]:
    addresses = getaddresses(msg.get_all("x-failed-recipients", []))
    return tuple(Report(final=addr.lower()) for _name, addr in addresses if "@" in addr)


def _value(field: object) -> str:
    return " ".join(str(field or "").split())


def _typed(field: object) -> str:
    """The value of an `addr-type; value` field (`rfc822; a@b`, `smtp; 550 ...`)."""
    return _value(field).partition(";")[2].strip() or _value(field)


def _address(field: object) -> str:
    return _typed(field).strip("<>").lower()
