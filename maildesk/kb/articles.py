"""Articles in the database: added, edited and published as versions, found by number or
slug, linked to the tickets they came from, and each use of one on a ticket.

Every change is a new revision with a kb_versions row naming its author, so
an article's history says who wrote what when; an edit that changes nothing
makes none. Slugs are unique: a new article whose title's slug is taken gets
"-2", "-3"; one whose file names a taken slug is refused (edit that one).
"""

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from maildesk.errors import ArticleError
from maildesk.kb.files import ArticleText, slugify
from maildesk.kb.index import cut
from maildesk.store.db import InsertOrSkip, execute
from maildesk.store.kb_tables import (
    Article,
    ArticleStatus,
    ArticleTicket,
    ArticleUse,
    ArticleVersion,
)
from maildesk.store.tables import Counter

GENERATION = "kb"  # the counter of article changes, in the counters table
_GENERATION = select(Counter.value).where(Counter.name == GENERATION)
_START_GENERATION = InsertOrSkip(Counter.__table__, ["name"])
_NEXT_GENERATION = (
    update(Counter.__table__).where(Counter.name == GENERATION).values(value=Counter.value + 1)
)
_INSERT_USE = insert(ArticleUse.__table__)
_LINK = InsertOrSkip(ArticleTicket.__table__, ["article_id", "ticket_id"])


def add(
    session: Session,
    text: ArticleText,
    author: str,
    now: datetime,
    *,
    file: str | None = None,
    unique_slug: bool = False,
) -> Article:
    """A new article (a draft unless `text` says published). With `unique_slug` a taken
    slug gets a number; else it is refused."""
    _check(text)
    slug = text.slug or slugify(text.title) or "article"
    if unique_slug:
        slug = _free_slug(session, slug)
    else:
        taken = by_slug(session, slug)
        if taken is not None:
            raise ArticleError(
                f"slug {slug!r} is taken by article {taken.id} (kb edit {taken.id})"
            )
    article = Article(
        slug=slug,
        title=text.title,
        body=text.body,
        locale=text.locale,
        category=text.category,
        tags=" ".join(text.tags),
        status=text.status or ArticleStatus.DRAFT,
        words=_words(text),
        revision=1,
        file=file,
        created_at=now,
        updated_at=now,
    )
    session.add(article)
    session.flush()
    _version(session, article, author, now)
    changed(session)
    return article


def edit(
    session: Session, article: Article, text: ArticleText, author: str, now: datetime
) -> bool:
    """Make `article` say `text` (its status too, when given); False when nothing changed."""
    _check(text)
    slug = text.slug or article.slug
    if slug != article.slug:
        taken = by_slug(session, slug)
        if taken is not None:
            raise ArticleError(f"slug {slug!r} is taken by article {taken.id}")
    values = {
        "slug": slug,
        "title": text.title,
        "body": text.body,
        "locale": text.locale,
        "category": text.category,
        "tags": " ".join(text.tags),
        "status": text.status or article.status,
    }
    changed = {name: v for name, v in values.items() if getattr(article, name) != v}
    for name, value in changed.items():
        setattr(article, name, value)
    if changed:
        article.words = _words(text)
        _bump(session, article, author, now)
    return bool(changed)


def publish(session: Session, article: Article, author: str, now: datetime) -> bool:
    """Published from now on; False when it already was."""
    if article.status == ArticleStatus.PUBLISHED:
        return False
    article.status = ArticleStatus.PUBLISHED
    _bump(session, article, author, now)
    return True


def as_text(article: Article) -> ArticleText:
    """What a file of `article` holds."""
    return ArticleText(
        title=article.title,
        locale=article.locale,
        body=article.body,
        category=article.category,
        tags=tuple(article.tags.split()),
        status=article.status,
        slug=article.slug,
    )


def find(session: Session, ref: str) -> Article | None:
    """The article named by its number ("12", "#12") or its slug."""
    number = ref.strip().removeprefix("#")
    if number.isdecimal() and len(number) <= 12:
        return session.get(Article, int(number))
    return by_slug(session, slugify(ref))


def by_slug(session: Session, slug: str) -> Article | None:
    return session.scalar(select(Article).where(Article.slug == slug))


def listing(session: Session, status: str | None = None) -> Sequence[Article]:
    query = select(Article).order_by(Article.id)
    return session.scalars(
        query if status is None else query.where(Article.status == status)
    ).all()


def versions(session: Session, article: Article) -> Sequence[ArticleVersion]:
    query = select(ArticleVersion).where(ArticleVersion.article_id == article.id)
    return session.scalars(query.order_by(ArticleVersion.revision)).all()


def tickets_of(session: Session, article: Article) -> list[int]:
    """The ids of the tickets `article` came from."""
    query = select(ArticleTicket.ticket_id).where(ArticleTicket.article_id == article.id)
    return list(session.scalars(query.order_by(ArticleTicket.ticket_id)))


def link(session: Session, article: Article, ticket_id: int) -> None:
    _LINK(session, {"article_id": article.id, "ticket_id": ticket_id})


def use(
    session: Session,
    article_ids: Iterable[int],
    ticket_id: int,
    kind: str,
    actor: str,
    now: datetime,
) -> None:
    """Note that the articles were used on the ticket (UseKind), in one statement."""
    rows = [
        {"article_id": a, "ticket_id": ticket_id, "kind": kind, "actor": actor, "created_at": now}
        for a in article_ids
    ]
    if rows:
        execute(session, _INSERT_USE, rows)


def used_on(session: Session, ticket_id: int, kind: str) -> list[int]:
    """The articles of one kind of use on a ticket, first used first."""
    query = select(ArticleUse.article_id).where(
        ArticleUse.ticket_id == ticket_id, ArticleUse.kind == kind
    )
    return list(dict.fromkeys(session.scalars(query.order_by(ArticleUse.id))))


def generation(session: Session) -> int:
    """A number that grows whenever an article is added or changed (`changed`): one row."""
    return session.scalar(_GENERATION) or 0


def changed(session: Session) -> None:
    """The articles changed in this transaction: the next `generation` is another."""
    _START_GENERATION(session, {"name": GENERATION, "value": 0})
    execute(session, _NEXT_GENERATION)


def _check(text: ArticleText) -> None:
    if not text.title.strip():
        raise ArticleError("title: missing")
    if not text.body.strip():
        raise ArticleError("body: an article needs a body")
    if not text.locale.strip():
        raise ArticleError("locale: missing")


def _free_slug(session: Session, slug: str) -> str:
    taken = set(session.scalars(select(Article.slug).where(Article.slug.like(f"{slug}%"))))
    return next(
        s for s in (slug, *(f"{slug}-{n}" for n in range(2, len(taken) + 3))) if s not in taken
    )


def _bump(session: Session, article: Article, author: str, now: datetime) -> None:
    article.revision += 1
    article.updated_at = now
    _version(session, article, author, now)
    changed(session)


def _words(text: ArticleText) -> str:
    return cut(text.title, " ".join((*text.tags, text.category or "")), text.body)


def _version(session: Session, article: Article, author: str, now: datetime) -> None:
    session.add(
        ArticleVersion(
            article_id=article.id,
            revision=article.revision,
            title=article.title,
            body=article.body,
            status=article.status,
            author=author,
            created_at=now,
        )
    )
