"""A MIME leaf that is not the body, as a file: its name, type, bytes, inline and cid."""

from dataclasses import dataclass
from email import policy
from email.message import Message

from maildesk.mail.headers import attachment_filename, decode_header
from maildesk.mail.names import file_name
from maildesk.mail.payloads import decoded, payload_bytes


@dataclass(frozen=True)
class Part:
    """A non-body MIME part: attachment or inline image."""

    filename: str
    content_type: str
    data: bytes
    inline: bool = False
    content_id: str | None = None


def as_part(leaf: Message) -> Part:
    """The leaf as a file; an attached mail or report keeps all its header blocks."""
    content_type = leaf.get_content_type()
    return Part(
        filename=_name(leaf),
        content_type=content_type,
        data=_message_bytes(leaf) if leaf.get_content_maintype() == "message" else decoded(leaf),
        inline=leaf.get_content_disposition() == "inline",
        content_id=_content_id(leaf),
    )


def _name(leaf: Message) -> str:
    """The base name the sender gave, else one from the type (an attached mail's subject)."""
    inner = inner_message(leaf)
    subject = decode_header(str(inner.get("subject", ""))) if inner is not None else ""
    return file_name(attachment_filename(leaf), leaf.get_content_type(), " ".join(subject.split()))


def inner_message(part: Message) -> Message | None:
    """The mail inside a message/rfc822 part (the first block of a delivery-status)."""
    inner = part.get_payload()
    if isinstance(inner, list) and inner and isinstance(inner[0], Message):
        return inner[0]
    return None


def _content_id(part: Message) -> str | None:
    """The id an HTML body uses to show this part (`cid:...`), without brackets."""
    value = " ".join(str(part.get("content-id", "")).split()).strip("<>")
    return value or None


def _message_bytes(part: Message) -> bytes:
    """An attached mail (or every block of a report) as a file; one too broken to
    re-serialise keeps its text form."""
    payload = part.get_payload()
    if not isinstance(payload, list):
        return payload_bytes(part)
    return b"".join(_as_bytes(block) for block in payload if isinstance(block, Message))


def _as_bytes(block: Message) -> bytes:
    try:
        return block.as_bytes()
    except (LookupError, ValueError, UnicodeError, TypeError):
        return block.as_string(policy=policy.compat32).encode("utf-8", "surrogateescape")
