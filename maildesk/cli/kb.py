"""`kb list|show|add|edit|publish|search|import|export`: the knowledge base from a shell.

Articles live in the database; files are Markdown with front matter
(kb/files.py). Changes are versions by "cli". `search` shows what a mail
with these words would be suggested, and where `[kb] min_score` cuts.
"""

from pathlib import Path
from typing import Any

import click
from sqlalchemy.orm import Session

from maildesk.cli.main import State
from maildesk.cli.output import print_json, print_table
from maildesk.errors import ArticleError
from maildesk.kb import articles, directory, files
from maildesk.store import db
from maildesk.store.kb_tables import Article, ArticleStatus

ACTOR = "cli"


@click.group()
def kb() -> None:
    """The knowledge base: articles agents write and customers are suggested."""


@kb.command(name="list")
@click.option("--status", type=click.Choice(files.STATUSES))
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def kb_list(state: State, status: str | None, as_json: bool) -> None:
    """Every article: number, status, locale, category, slug, title."""
    with db.transaction(state.app().sessions) as session:
        listed = [_summary(a) for a in articles.listing(session, status)]
    if as_json:
        print_json(listed)
        return
    columns = ("number", "status", "locale", "category", "slug", "title")
    print_table(columns, ([a[c] or "" for c in columns] for a in listed))


@kb.command(name="show")
@click.argument("ref")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def kb_show(state: State, ref: str, as_json: bool) -> None:
    """One article (its number or slug): the text, its versions, the tickets it came from."""
    with db.transaction(state.app().sessions) as session:
        article = _find(session, ref)
        shown = _summary(article) | {"tags": article.tags.split(), "body": article.body}
        shown["versions"] = [
            {"revision": v.revision, "status": v.status, "author": v.author}
            | {"at": v.created_at.isoformat()}
            for v in articles.versions(session, article)
        ]
        shown["tickets"] = articles.tickets_of(session, article)
    if as_json:
        print_json(shown)
        return
    click.echo(files.render(articles.as_text(article)).rstrip())
    click.echo(f"\n-- article {shown['number']}, tickets: {shown['tickets'] or 'none'}")
    for v in shown["versions"]:
        click.echo(f"   revision {v['revision']} {v['status']} by {v['author']} at {v['at']}")


@kb.command(name="add")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_obj
def kb_add(state: State, file: Path) -> None:
    """A new article from a Markdown file (a draft unless its status says published)."""
    app = state.app()
    text = files.read(file)
    with db.transaction(app.sessions, write=True) as session:
        article = articles.add(session, text, ACTOR, app.clock())
        number, status = article.id, article.status
    click.echo(f"article {number} added ({status}): {text.title}")


@kb.command(name="edit")
@click.argument("ref")
@click.option(
    "--file",
    "file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Take the new text from this file (else $EDITOR opens the article).",
)
@click.pass_obj
def kb_edit(state: State, ref: str, file: Path | None) -> None:
    """Change an article; each change is a new version."""
    app = state.app()
    with db.transaction(app.sessions, write=True) as session:
        article = _find(session, ref)
        if file is not None:
            text = files.read(file)
        else:
            written = click.edit(files.render(articles.as_text(article)), extension=".md")
            if written is None:
                click.echo("not changed: the editor was closed without saving")
                return
            text = files.parse(written, f"article {article.id}")
        changed = articles.edit(session, article, text, ACTOR, app.clock())
        number, revision = article.id, article.revision
    click.echo(f"article {number}: " + (f"revision {revision}" if changed else "no change"))


@kb.command(name="publish")
@click.argument("ref")
@click.pass_obj
def kb_publish(state: State, ref: str) -> None:
    """Publish an article: suggested to customers, usable with #answer."""
    app = state.app()
    with db.transaction(app.sessions, write=True) as session:
        article = _find(session, ref)
        done = articles.publish(session, article, ACTOR, app.clock())
        number = article.id
    click.echo(f"article {number} " + ("published" if done else "was published already"))


@kb.command(name="search")
@click.argument("query", nargs=-1, required=True)
@click.option("--locale", help="Only articles in this locale (as a customer's would be).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def kb_search(state: State, query: tuple[str, ...], locale: str | None, as_json: bool) -> None:
    """The published articles that best match QUERY, with their scores; those at or above
    [kb] min_score are what a mail with these words would be suggested."""
    app = state.app()
    with db.transaction(app.sessions) as session:
        index = app.knowledge.index(session)
    floor = app.config.kb.min_score
    found = index.search(" ".join(query), 10, 0.0, locale)
    hits: list[dict[str, Any]] = [
        {"number": h.entry.article_id, "slug": h.entry.slug, "title": h.entry.title}
        | {"locale": h.entry.locale, "score": round(h.score, 3), "suggested": h.score >= floor}
        for h in found
    ]
    if as_json:
        print_json(hits)
        return
    columns = ("score", "suggested", "number", "locale", "slug", "title")
    print_table(columns, ([h[c] for c in columns] for h in hits))
    shown = sum(h.score >= floor for h in found)
    click.echo(f"[kb] min_score {floor}: {shown} of these would be suggested")


@kb.command(name="import")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.pass_obj
def kb_import(state: State, folder: Path) -> None:
    """Load every *.md of FOLDER: new slugs added, changed files a new version (a file
    without a status is published)."""
    app = state.app()
    with db.transaction(app.sessions, write=True) as session:
        loaded = directory.load(session, folder, app.clock())
    click.echo(f"{folder}: {loaded}")


@kb.command(name="export")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.pass_obj
def kb_export(state: State, folder: Path) -> None:
    """Write every article to FOLDER as <slug>.md (what `kb import` reads back)."""
    with db.transaction(state.app().sessions) as session:
        count = directory.export(session, folder)
    click.echo(f"{count} articles written to {folder}")


def _find(session: Session, ref: str) -> Article:
    article = articles.find(session, ref)
    if article is None:
        raise ArticleError(f"no article {ref!r} (kb list shows them)")
    return article


def _summary(article: Article) -> dict[str, Any]:
    return {
        "number": article.id,
        "slug": article.slug,
        "title": article.title,
        "locale": article.locale,
        "category": article.category,
        "status": article.status,
        "revision": article.revision,
        "published": article.status == ArticleStatus.PUBLISHED,
    }
