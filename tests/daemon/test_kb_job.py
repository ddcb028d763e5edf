"""The daemon's article-files job in process: `[kb] dir` loaded at start, again only when
a file changed, and a bad file logged with nothing stored."""

import logging
from pathlib import Path

from maildesk.daemon.loop import Daemon
from maildesk.kb import articles
from maildesk.store import db

ARTICLE = "---\ntitle: VPN does not connect\nlocale: en\n---\nSign out and in again.\n"


def kb_job(app):
    (job,) = [j for j in Daemon(app).jobs() if j.id == "kb"]
    return job


def revisions(app) -> list[tuple[str, int, str]]:
    with db.transaction(app.sessions) as session:
        return [(a.slug, a.revision, a.status) for a in articles.listing(session)]


def test_the_folder_loads_at_start_and_again_only_when_a_file_changes(
    make_app, tmp_path: Path, caplog
):
    folder = tmp_path / "kb"
    folder.mkdir()
    (folder / "vpn.md").write_text(ARTICLE, encoding="utf-8")
    app = make_app(extra=f'[kb]\ndir = "{folder}"\n')
    job = kb_job(app)

    job.run()
    job.run()  # nothing changed: nothing read
    assert revisions(app) == [("vpn", 1, "published")]

    (folder / "vpn.md").write_text(ARTICLE.replace("again.", "again, then retry."), "utf-8")
    job.run()
    assert revisions(app) == [("vpn", 2, "published")]

    (folder / "bad.md").write_text("---\ntitle: No locale\n---\nbody\n", encoding="utf-8")
    with caplog.at_level(logging.ERROR, logger="maildesk.daemon.kb_job"):
        job.run()
    assert f"{folder / 'bad.md'}: locale: missing" in caplog.text
    assert revisions(app) == [("vpn", 2, "published")], "nothing of that load stored"


def test_no_job_without_a_folder(make_app):
    assert [j for j in Daemon(make_app()).jobs() if j.id == "kb"] == []
