"""Articles in the database, on both databases: versions, publishing, the index that
follows them, and a folder of files loaded and exported."""

from pathlib import Path

import pytest

from maildesk.errors import ArticleError
from maildesk.kb import articles, directory, files
from maildesk.store import db

PRINTER = files.ArticleText(
    "The printer shows as offline", "en", "Switch it off and on.", "hardware", ("printer",)
)


def test_each_change_is_a_version_and_publishing_updates_the_index(make_app, clock):
    app = make_app()
    with db.transaction(app.sessions, write=True) as session:
        article = articles.add(session, PRINTER, "lin@desk.example", clock())
        assert (article.id, article.slug, article.status) == (
            1,
            "the-printer-shows-as-offline",
            "draft",
        )
        assert app.knowledge.index(session).search("printer offline", 3) == [], "a draft"
        clock.advance(minutes=5)
        edited = files.ArticleText(PRINTER.title, "en", "Restart the printer.", "hardware")
        assert articles.edit(session, article, edited, "boss@desk.example", clock())
        assert not articles.edit(session, article, edited, "boss@desk.example", clock())
        assert articles.publish(session, article, "boss@desk.example", clock())
        assert not articles.publish(session, article, "boss@desk.example", clock())
        (hit,) = app.knowledge.index(session).search("my printer is offline", 3)
        assert hit.entry.slug == "the-printer-shows-as-offline"
        history = [(v.revision, v.status, v.author) for v in articles.versions(session, article)]
        assert history == [
            (1, "draft", "lin@desk.example"),
            (2, "draft", "boss@desk.example"),
            (3, "published", "boss@desk.example"),
        ]
        assert articles.find(session, "1") is articles.find(
            session, "The Printer shows as offline"
        )


def test_a_taken_slug_is_refused_or_numbered(make_app, clock):
    app = make_app()
    with db.transaction(app.sessions, write=True) as session:
        articles.add(session, PRINTER, "cli", clock())
        with pytest.raises(
            ArticleError, match="slug 'the-printer-shows-as-offline' is taken by article 1"
        ):
            articles.add(session, PRINTER, "cli", clock())
        again = articles.add(session, PRINTER, "cli", clock(), unique_slug=True)
        assert again.slug == "the-printer-shows-as-offline-2"


def test_a_folder_loads_once_and_exports_what_it_loaded(make_app, clock, tmp_path: Path):
    app = make_app()
    folder = tmp_path / "kb"
    folder.mkdir()
    (folder / "printer.md").write_text(files.render(PRINTER), encoding="utf-8")
    with db.transaction(app.sessions, write=True) as session:
        assert str(directory.load(session, folder, clock())) == "1 added, 0 changed, 0 unchanged"
        assert str(directory.load(session, folder, clock())) == "0 added, 0 changed, 1 unchanged"
        (article,) = articles.listing(session)
        assert (article.slug, article.status, article.file) == (
            "printer",
            "published",
            str(folder / "printer.md"),
        ), "no status in the file: an admin's folder is published"
        assert directory.export(session, tmp_path / "out") == 1
    assert files.read(tmp_path / "out" / "printer.md") == files.ArticleText(
        PRINTER.title, "en", PRINTER.body, "hardware", ("printer",), "published", "printer"
    )


def test_a_bad_file_in_a_folder_stores_nothing(make_app, clock, tmp_path: Path):
    app = make_app()
    (tmp_path / "a.md").write_text(files.render(PRINTER), encoding="utf-8")
    (tmp_path / "b.md").write_text("---\ntitle: B\n---\nbody\n", encoding="utf-8")
    bad = pytest.raises(ArticleError, match=r"b\.md: locale: missing")
    with bad, db.transaction(app.sessions, write=True) as session:
        directory.load(session, tmp_path, clock())
    with db.transaction(app.sessions) as session:
        assert articles.listing(session) == []
