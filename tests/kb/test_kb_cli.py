"""`maildesk kb ...` as an admin runs it, in process (click's runner), on both databases."""

import json
from pathlib import Path

from click.testing import CliRunner

from maildesk.cli import cli

ARTICLE = """---
title: Reset a forgotten password
locale: en
category: account
tags: [password, login]
---
Choose **Forgot password** on the sign-in page.
"""


def run(config: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--config", str(config), "kb", *args])
    return result.exit_code, result.output


def test_an_article_is_added_published_found_edited_and_exported(make_app, tmp_path: Path):
    make_app()  # a migrated database and its config
    config = tmp_path / "maildesk.toml"
    source = tmp_path / "password.md"
    source.write_text(ARTICLE, encoding="utf-8")

    assert run(config, "add", str(source)) == (
        0,
        "article 1 added (draft): Reset a forgotten password\n",
    )
    assert json.loads(run(config, "search", "forgot my password", "--json")[1]) == []
    assert run(config, "publish", "1")[1] == "article 1 published\n"
    (hit,) = json.loads(run(config, "search", "I forgot my password", "--json")[1])
    assert (hit["number"], hit["slug"], hit["suggested"]) == (1, "password", True)

    source.write_text(ARTICLE.replace("sign-in page", "login page"), encoding="utf-8")
    assert run(config, "edit", "password", "--file", str(source))[1] == "article 1: revision 3\n"
    shown = json.loads(run(config, "show", "1", "--json")[1])
    assert [(v["revision"], v["status"], v["author"]) for v in shown["versions"]] == [
        (1, "draft", "cli"),
        (2, "published", "cli"),
        (3, "published", "cli"),
    ]
    assert "login page" in shown["body"] and shown["tags"] == ["password", "login"]
    (listed,) = json.loads(run(config, "list", "--json")[1])
    assert (listed["status"], listed["revision"]) == ("published", 3)

    out = tmp_path / "out"
    assert run(config, "export", str(out))[1] == f"1 articles written to {out}\n"
    assert run(config, "import", str(out))[1] == f"{out}: 0 added, 0 changed, 1 unchanged\n"


def test_bad_input_exits_2_naming_the_file_and_key(make_app, tmp_path: Path):
    make_app()
    config = tmp_path / "maildesk.toml"
    bad = tmp_path / "bad.md"
    bad.write_text("---\ntitle: T\n---\nbody\n", encoding="utf-8")
    code, output = run(config, "add", str(bad))
    assert code == 2 and f"{bad}: locale: missing" in output
    code, output = run(config, "show", "9")
    assert code == 2 and "no article '9'" in output
    assert json.loads(run(config, "list", "--json")[1]) == [], "nothing stored"
