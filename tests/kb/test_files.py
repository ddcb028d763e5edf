"""Article files: Markdown with front matter, read back as written; bad ones named. Pure."""

from pathlib import Path

import pytest

from maildesk.errors import ArticleError
from maildesk.kb import files

pytestmark = pytest.mark.one_database("files only: no database")

GOOD = """---
title: The printer shows as offline
locale: en
category: hardware
tags: [Printer, network]
---

Switch it off and on.
"""


def test_a_file_is_read_with_its_slug_from_the_file_name(tmp_path: Path):
    path = tmp_path / "Printer Offline.md"
    path.write_text(GOOD, encoding="utf-8")
    found = files.read(path)
    assert (found.title, found.locale, found.category) == (
        "The printer shows as offline",
        "en",
        "hardware",
    )
    assert (found.tags, found.status, found.slug) == (
        ("printer", "network"),
        None,
        "printer-offline",
    )
    assert found.body == "Switch it off and on."


def test_render_and_parse_give_the_article_back():
    article = files.ArticleText(
        "打印机显示脱机", "zh", "请重启。", "硬件", ("打印机",), "published", "dy"
    )
    assert files.parse(files.render(article), "x.md") == article


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("no front matter\n", "x.md: no front matter"),
        ("---\ntitle: [unclosed\n---\nbody\n", "x.md: the front matter is not YAML"),
        ("---\nlocale: en\n---\nbody\n", "x.md: title: missing"),
        ("---\ntitle: T\nlocale: en\ncolour: red\n---\nbody\n", "x.md: unknown key 'colour'"),
        ("---\ntitle: T\nlocale: en\nstatus: live\n---\nbody\n", "x.md: status: 'live' is not"),
        ("---\ntitle: T\nlocale: en\n---\n\n", "x.md: the article has no body"),
        ("---\ntitle: T\nlocale: en\ntags: {a: 1}\n---\nb\n", "x.md: tags: must be a list"),
    ],
)
def test_a_bad_file_is_refused_naming_the_file_and_key(text, message):
    with pytest.raises(ArticleError, match="^" + message.replace("[", r"\[").replace("(", r"\(")):
        files.parse(text, "x.md")


def test_slugs_keep_chinese_and_fold_the_rest():
    assert files.slugify("Reset  your Password!") == "reset-your-password"
    assert files.slugify("重置 密码") == "重置-密码"
