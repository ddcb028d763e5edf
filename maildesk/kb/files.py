"""Articles as Markdown files with front matter: PyYAML's one home.

```
---
title: Reset a forgotten password
locale: en
category: account
tags: [password, login]
status: published        # optional: draft (the default for `kb add`) or published
slug: password-reset     # optional: else the file's name
---
The body, in Markdown.
```

A file that cannot be read as an article raises ArticleError naming the
file and the key, and nothing of it is stored.
"""

import re
import unicodedata
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from maildesk.errors import ArticleError

STATUSES = ("draft", "published")
_KEYS = {"title", "locale", "category", "tags", "status", "slug"}
_FENCE = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_SLUG_CHARS = re.compile(r"[^\w]+")
MAX_SLUG = 80


@dataclass(frozen=True)
class ArticleText:
    """An article as a file holds it; `slug` and `status` may be left to the caller."""

    title: str
    locale: str
    body: str
    category: str | None = None
    tags: tuple[str, ...] = ()
    status: str | None = None
    slug: str | None = None


def read(path: Path) -> ArticleText:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ArticleError(f"{path}: cannot be read ({exc})") from exc
    found = parse(text, str(path))
    return found if found.slug else replace(found, slug=slugify(path.stem))


def parse(text: str, name: str) -> ArticleText:
    """The article of one file's text; ArticleError names `name` and the key at fault."""
    fence = _FENCE.match(text)
    if fence is None:
        raise ArticleError(f"{name}: no front matter (a '---' block with title and locale)")
    try:
        meta = yaml.safe_load(fence.group(1)) or {}
    except yaml.YAMLError as exc:
        raise ArticleError(f"{name}: the front matter is not YAML ({exc})") from exc
    if not isinstance(meta, dict):
        raise ArticleError(f"{name}: the front matter must be keys and values")
    unknown = sorted(set(map(str, meta)) - _KEYS)
    if unknown:
        raise ArticleError(
            f"{name}: unknown key {unknown[0]!r} (known: {', '.join(sorted(_KEYS))})"
        )
    status = _text(meta, "status", name, required=False)
    if status is not None and status not in STATUSES:
        raise ArticleError(f"{name}: status: {status!r} is not one of {', '.join(STATUSES)}")
    body = text[fence.end() :].strip()
    if not body:
        raise ArticleError(f"{name}: the article has no body below its front matter")
    slug = _text(meta, "slug", name, required=False)
    return ArticleText(
        title=_text(meta, "title", name) or "",
        locale=_text(meta, "locale", name) or "",
        body=body,
        category=_text(meta, "category", name, required=False),
        tags=_tags(meta.get("tags"), name),
        status=status,
        slug=slugify(slug) if slug else None,
    )


def render(article: ArticleText) -> str:
    """The file of `article`, which `parse` reads back as it was."""
    meta: dict[str, Any] = {"title": article.title, "slug": article.slug, "locale": article.locale}
    meta |= {"category": article.category, "tags": list(article.tags), "status": article.status}
    kept = {key: value for key, value in meta.items() if value not in (None, [])}
    front = yaml.safe_dump(kept, allow_unicode=True, sort_keys=False, width=1000)
    return f"---\n{front}---\n\n{article.body.strip()}\n"


def slugify(text: str) -> str:
    """A name for `#answer` and file names: lower case words joined by '-' (CJK kept)."""
    words = _SLUG_CHARS.sub("-", unicodedata.normalize("NFKC", text).casefold())
    return words.strip("-_")[:MAX_SLUG].strip("-_")


def _text(meta: dict[str, Any], key: str, name: str, required: bool = True) -> str | None:
    value = meta.get(key)
    if value is None or value == "":
        if required:
            raise ArticleError(f"{name}: {key}: missing")
        return None
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise ArticleError(f"{name}: {key}: must be text, got {type(value).__name__}")
    return " ".join(str(value).split())


def _tags(value: Any, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    listed = value.split() if isinstance(value, str) else value
    if not isinstance(listed, list) or not all(isinstance(t, str | int) for t in listed):
        raise ArticleError(f"{name}: tags: must be a list of words")
    return tuple(dict.fromkeys(str(t).strip().casefold() for t in listed if str(t).strip()))
