"""A mail's body: every inline text leaf in document order; the other leaves are files.

Clients put the words where they like: Apple Mail between inline images
(mixed[text, image, text]), Mutt and every PGP/MIME mail mark the body
inline, Lotus Notes marks the root, an iPhone sends the image first. The
stdlib's get_body() takes one part only and, on compat32 headers, raises on
the first Content-Disposition it meets; so the tree is walked here.
"""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from email.message import Message
from functools import cache

from maildesk.mail import tnef
from maildesk.mail.forwards import forwarded
from maildesk.mail.headers import attachment_filename, decode_header
from maildesk.mail.names import file_name
from maildesk.mail.parts import Part, as_part, inner_message
from maildesk.mail.payloads import html_to_text, part_text

_BODY_TYPES = ("text/plain", "text/html")
_TEXT_ROOTS = ("multipart", "text")
_NAMING_HEADERS = ("content-disposition", "content-type")
_TNEF_TYPES = ("application/ms-tnef", "application/vnd.ms-tnef")


@dataclass
class Body:
    """The sender's own text, the HTML, the files, and the mails attached to it, each as
    one forwarded block (they are new content for the desk, never quoted history)."""

    text: str = ""
    html: str | None = None
    parts: list[Part] = field(default_factory=list)
    forwards: list[str] = field(default_factory=list)


def read_body(msg: Message) -> Body:
    """Text (plain where there is plain, else from HTML), HTML kept, the rest as files."""
    text_of = cache(part_text)
    leaves = text_leaves(msg, "plain", text_of)
    html = [text_of(leaf) for leaf in text_leaves(msg, "html", text_of) if _is_html(leaf)]
    body = Body(html="\n".join(html) if html else None)
    body.text = join(_words(leaf, text_of) for leaf in leaves)
    if not leaves and not msg.is_multipart() and msg.get_content_maintype() in _TEXT_ROOTS:
        body.text = text_of(msg)  # a single text/csv, or a multipart with no delimiters
    report = msg.get_content_type() == "multipart/report"
    for leaf in _leaves(msg):
        if not is_body_text(leaf) and leaf.get_content_maintype() != "multipart":
            _take_file(leaf, body, report)
    return body


def text_leaves(node: Message, prefer: str, text_of: Callable[[Message], str]) -> list[Message]:
    """The body's text leaves under `node`, in document order.

    Of a multipart/alternative only one alternative counts: the one holding
    `prefer`red text ("plain" or "html") with words in it, else one with any
    words; among equals the last, the richest by RFC 2046.
    """
    if node.get_content_maintype() == "message":
        return []  # an attached mail is a file, and its words a forward
    if not node.is_multipart():
        return [node] if is_body_text(node) else []
    found = [text_leaves(sub, prefer, text_of) for sub in _subparts(node)]
    if node.get_content_subtype() != "alternative":
        return [leaf for leaves in found for leaf in leaves]

    def rank(leaves: list[Message]) -> tuple[bool, bool]:
        filled = [leaf for leaf in leaves if text_of(leaf).strip()]
        return any(leaf.get_content_subtype() == prefer for leaf in filled), bool(filled)

    return max(reversed(found), key=rank, default=[])


def is_body_text(leaf: Message) -> bool:
    """A text the sender meant to be read, not a file: plain or HTML, not marked as an
    attachment, without a file name (Apple Mail sends a .txt file inline, named)."""
    return (
        leaf.get_content_type() in _BODY_TYPES
        and leaf.get_content_disposition() != "attachment"
        and not (_may_be_named(leaf) and attachment_filename(leaf))
    )


def _may_be_named(leaf: Message) -> bool:
    """A cheap test before the full one: most body parts carry no name parameter at all."""
    return any("name" in str(leaf.get(header, "")).lower() for header in _NAMING_HEADERS)


def join(texts: Iterable[str]) -> str:
    """Pieces of text one after the other, a blank line between, the empty ones left out."""
    return "\n\n".join(text.rstrip() for text in texts if text.strip())


def _words(leaf: Message, text_of: Callable[[Message], str]) -> str:
    return html_to_text(text_of(leaf)) if _is_html(leaf) else text_of(leaf)


def _is_html(leaf: Message) -> bool:
    return leaf.get_content_subtype() == "html"


def _subparts(node: Message) -> list[Message]:
    return [sub for sub in node.get_payload() if isinstance(sub, Message)]


def _leaves(msg: Message) -> Iterator[Message]:
    """Leaf parts, not descending into attached messages (those stay one part)."""
    if msg.get_content_maintype() == "message" or not msg.is_multipart():
        yield msg
        return
    for sub in _subparts(msg):
        yield from _leaves(sub)


def _take_file(leaf: Message, body: Body, report: bool) -> None:
    """A file part; TNEF gives its text and files, an attached mail its text as a forward."""
    part = as_part(leaf)
    body.parts.append(part)
    if part.content_type in _TNEF_TYPES or part.filename.lower() == "winmail.dat":
        _add_tnef(part.data, body)
    elif part.content_type == "message/rfc822" and not report:
        _add_attached_message(leaf, body)


def _add_attached_message(part: Message, body: Body) -> None:
    """Forwarded-as-attachment mail: its words, under its own From/Date/Subject lines."""
    inner = inner_message(part)
    if inner is None:
        return
    inner_body = read_body(inner)
    header = "\n".join(
        f"{label}: {' '.join(decode_header(str(inner.get(label, ''))).split())}"
        for label in ("From", "Date", "Subject")
    )
    body.forwards.append(forwarded(join([header, inner_body.text, *inner_body.forwards])))


def _add_tnef(data: bytes, body: Body) -> None:
    """winmail.dat: its body becomes our text when we have none; its files become parts."""
    unpacked = tnef.unpack(data)
    if unpacked is None:
        return
    if not body.text.strip():
        body.text = unpacked.text
    for name, content_type, content in unpacked.files:
        body.parts.append(Part(file_name(name, content_type), content_type, content))
