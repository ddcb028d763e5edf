"""The body walk: every inline text leaf's words reach the text, the other leaves are files."""

from collections import Counter
from dataclasses import dataclass, field
from email.message import Message
from email.mime.application import MIMEApplication
from email.mime.image import MIMEImage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from functools import cache

import pytest
from hypothesis import given
from hypothesis import strategies as st

from maildesk.mail.message import parse
from tests.support import fuzz

PNG = b"\x89PNG\r\n\x1a\n" + bytes(8)
DISPOSITIONS = st.sampled_from([None, "inline", "attachment"])


@dataclass
class Tree:
    """A MIME tree and what parsing it must give: words in the text, file types."""

    node: Message
    words: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)


def disposed(node: Message, disposition: str | None, filename: str | None = None) -> Message:
    if disposition is not None:
        params = {"filename": filename} if filename else {}
        node.add_header("Content-Disposition", disposition, **params)
    return node


def text_leaf(subtype: str, words: list[str]) -> Message:
    line = " ".join(words)
    return MIMEText(f"<p>{line}</p>" if subtype == "html" else f"{line}\n", subtype)


@st.composite
def phrases(draw) -> list[str]:
    return [f"w{n}" for n in draw(st.lists(st.integers(0, 999), min_size=1, max_size=4))]


@st.composite
def texts(draw) -> Tree:
    """A text leaf: the body when inline, a file when marked attachment."""
    words, subtype = draw(phrases()), draw(st.sampled_from(["plain", "html"]))
    disposition = draw(DISPOSITIONS)
    node = disposed(text_leaf(subtype, words), disposition)
    if disposition == "attachment":
        return Tree(node, files=[f"text/{subtype}"])
    return Tree(node, words=words)


@st.composite
def files(draw) -> Tree:
    """An image or a PDF, inline or not, named or not."""
    kind = draw(st.sampled_from(["image/png", "application/pdf"]))
    node = MIMEImage(PNG, "png") if kind == "image/png" else MIMEApplication(b"%PDF", "pdf")
    name = draw(st.sampled_from([None, "shot.png", "../../etc/passwd", "C:\\tmp\\a.pdf"]))
    return Tree(disposed(node, draw(DISPOSITIONS), name), files=[kind])


@st.composite
def alternatives(draw) -> Tree:
    """One text two ways, as clients write it: plain, and HTML that may have an image
    between its pieces (Apple Mail's alternative[plain, mixed[html, image, html]])."""
    words = draw(phrases())
    html = text_leaf("html", words)
    if draw(st.booleans()) and len(words) > 1:
        pieces = [
            text_leaf("html", words[:1]),
            MIMEImage(PNG, "png"),
            text_leaf("html", words[1:]),
        ]
        html = MIMEMultipart("mixed", None, pieces)
    versions = [text_leaf("plain", words), html]
    if draw(st.booleans()):
        versions.reverse()
    image = ["image/png"] if html.is_multipart() else []
    return Tree(MIMEMultipart("alternative", None, versions), words=words, files=image)


@cache
def trees(depth: int = 3) -> st.SearchStrategy[Tree]:
    """Leaves, alternatives, and containers of them down to `depth`, any disposition on any."""
    leaves = st.one_of(texts(), files(), alternatives())
    return leaves if depth == 0 else st.one_of(leaves, containers(trees(depth - 1)))


@st.composite
def containers(draw, below: st.SearchStrategy[Tree]) -> Tree:
    subtype = draw(st.sampled_from(["mixed", "related", "signed"]))
    children = draw(st.lists(below, min_size=1, max_size=3))
    node = MIMEMultipart(subtype, None, [child.node for child in children])
    return Tree(
        disposed(node, draw(DISPOSITIONS)),
        words=[word for child in children for word in child.words],
        files=[kind for child in children for kind in child.files],
    )


@fuzz(200)
@given(trees())
def test_every_inline_text_leaf_reaches_the_text_and_every_file_has_a_name(tree: Tree) -> None:
    tree.node["From"] = "ann@customer.example"
    mail = parse(tree.node.as_bytes())
    assert set(tree.words) <= set(mail.text.split()), mail.text
    assert Counter(p.content_type for p in mail.parts) == Counter(tree.files)
    assert all(p.filename and "/" not in p.filename and "\\" not in p.filename for p in mail.parts)


def mixed(*parts: bytes, root: bytes = b"multipart/mixed", boundary: bytes = b"B") -> bytes:
    body = b"".join(b"--" + boundary + b"\n" + part + b"\n" for part in parts)
    head = b"From: a@b.example\nContent-Type: " + root + b'; boundary="' + boundary + b'"\n\n'
    return head + body + b"--" + boundary + b"--\n"


INLINE_TEXT = b"Content-Type: text/plain\nContent-Disposition: inline\n\n"
IMAGE = b"Content-Type: image/jpeg\nContent-Disposition: inline\n\n/9j/"


@pytest.mark.parametrize(
    ("raw", "text", "files"),
    [
        (mixed(INLINE_TEXT + b"Mutt words"), "Mutt words", []),
        (b"From: a@b.example\nContent-Disposition: inline\n\nNotes root", "Notes root", []),
        (mixed(IMAGE, b"Content-Type: text/plain\n\niPhone words"), "iPhone words", ["image.jpg"]),
        (
            mixed(INLINE_TEXT + b"one", IMAGE, INLINE_TEXT + b"two"),
            "one\n\ntwo",
            ["image.jpg"],
        ),
    ],
    ids=["Mutt inline body", "Lotus Notes inline root", "iOS image first", "Apple Mail"],
)
def test_a_content_disposition_does_not_hide_the_body(raw: bytes, text: str, files) -> None:
    mail = parse(raw)
    assert mail.text == text and [p.filename for p in mail.parts] == files


def test_a_named_text_file_sent_inline_stays_a_file() -> None:
    named = b'Content-Type: text/plain; name="app.log"\nContent-Disposition: inline\n\nERROR x'
    mail = parse(mixed(b"Content-Type: text/plain\n\nsee the log", named))
    assert mail.text == "see the log" and [p.filename for p in mail.parts] == ["app.log"]


def test_html_of_every_alternative_is_kept_and_the_pdf_is_a_file() -> None:
    inner = mixed(
        b"Content-Type: text/html\n\n<p>before</p>",
        b"Content-Type: application/pdf\nContent-Disposition: inline; filename=q.pdf\n\n%PDF",
        b"Content-Type: text/html\n\n<p>after</p>",
        boundary=b"C",
    ).split(b"\n", 1)[1]
    raw = mixed(b"Content-Type: text/plain\n\nbefore after", inner, root=b"multipart/alternative")
    mail = parse(raw)
    assert mail.text == "before after" and [p.filename for p in mail.parts] == ["q.pdf"]
    assert mail.html is not None and "before" in mail.html and "after" in mail.html
