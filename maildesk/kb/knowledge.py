"""The index of the published articles, kept by the process and rebuilt when they change.

One per App (like the templates), shared by its units of work and threads.
Whether the articles changed is one row read (articles.generation); a
rebuild reads the words only of articles whose revision it has not seen
(each row keeps its words, cut when it was saved), so publishing one
article among 10 000 reads one row and rebuilds the vectors (about a second).
"""

import threading
from collections import Counter

from sqlalchemy import select
from sqlalchemy.orm import Session

from maildesk.kb import articles
from maildesk.kb.index import Entry, Index, weigh
from maildesk.store.kb_tables import Article, ArticleStatus

CHUNK = 500  # articles read at once
_LISTED = (
    Article.id,
    Article.revision,
    Article.slug,
    Article.title,
    Article.locale,
    Article.category,
)


class Knowledge:
    """The published articles' index for a process, current as of its last `index` call."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._generation: int | None = None
        self._index = Index([], [])
        self._counts: dict[tuple[int, int], Counter[str]] = {}  # by (id, revision)

    def index(self, session: Session) -> Index:
        """The index of the articles published now (one query when nothing changed)."""
        generation = articles.generation(session)
        with self._lock:
            if generation != self._generation:
                self._index = self._build(session)
                self._generation = generation
            return self._index

    def _build(self, session: Session) -> Index:
        listed = session.execute(
            select(*_LISTED).where(Article.status == ArticleStatus.PUBLISHED).order_by(Article.id)
        ).all()
        known = {(r.id, r.revision): self._counts.get((r.id, r.revision)) for r in listed}
        missing = [key[0] for key, counts in known.items() if counts is None]
        for chunk in (missing[n : n + CHUNK] for n in range(0, len(missing), CHUNK)):
            rows = select(Article.id, Article.revision, Article.words).where(Article.id.in_(chunk))
            for article_id, revision, words in session.execute(rows):
                known[(article_id, revision)] = weigh(words)
        # One changed between the two reads is left out; the next call sees it.
        self._counts = {key: counts for key, counts in known.items() if counts is not None}
        kept = [r for r in listed if (r.id, r.revision) in self._counts]
        return Index(
            [Entry(r.id, r.slug, r.title, r.locale, r.category) for r in kept],
            [self._counts[r.id, r.revision] for r in kept],
        )
