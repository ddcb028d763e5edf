"""A folder of article files (`[kb] dir`, `kb import DIR`) kept in step with the database.

Each `*.md` file is one article, named by its slug (front matter, else the
file name): a new slug is added, a known one edited when its file says
something else (a new version, by "file:<name>"), an unchanged file does
nothing. A file without a status is published: an admin's folder is the
articles they mean to use. A file that cannot be read stops the load before
anything is stored, naming it. The daemon looks at the folder every minute
and loads it only when a file was added, changed or removed since
(daemon/kb_job.py), as templates are picked up without a restart.
"""

from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from maildesk.kb import articles, files
from maildesk.store.kb_tables import ArticleStatus

SUFFIX = ".md"


@dataclass(frozen=True)
class Loaded:
    added: int
    changed: int
    unchanged: int

    def __str__(self) -> str:
        return f"{self.added} added, {self.changed} changed, {self.unchanged} unchanged"


def load(session: Session, folder: Path, now: datetime) -> Loaded:
    """Every article file of `folder` into the database (ArticleError: nothing stored)."""
    found = [(path, files.read(path)) for path in article_files(folder)]
    added = changed = 0
    for path, text in found:
        text = text if text.status else replace(text, status=ArticleStatus.PUBLISHED)
        author = f"file:{path.name}"
        article = articles.by_slug(session, text.slug or "")
        if article is None:
            articles.add(session, text, author, now, file=str(path))
            added += 1
        elif articles.edit(session, article, text, author, now):
            changed += 1
        article = article or articles.by_slug(session, text.slug or "")
        if article is not None and article.file != str(path):
            article.file = str(path)
    return Loaded(added, changed, len(found) - added - changed)


def export(session: Session, folder: Path) -> int:
    """Every article as `<slug>.md` in `folder`; returns how many were written."""
    folder.mkdir(parents=True, exist_ok=True)
    listed = articles.listing(session)
    for article in listed:
        text = files.render(articles.as_text(article))
        (folder / f"{article.slug}{SUFFIX}").write_text(text, encoding="utf-8")
    return len(listed)


def article_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob(f"*{SUFFIX}") if p.is_file())


def state(folder: Path) -> tuple[tuple[str, int, int], ...]:
    """Each article file's name, modification time and size: what a change changes."""
    listed = []
    for path in article_files(folder) if folder.is_dir() else []:
        info = path.stat()
        listed.append((path.name, info.st_mtime_ns, info.st_size))
    return tuple(listed)
