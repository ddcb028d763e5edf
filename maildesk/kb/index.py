"""Which articles answer a text: a TF-IDF index over the published articles, in memory.

Each article is one vector of its words (segment.py): the title counts three
times, tags and category twice, the body once, each word's count damped
(1 + log) and weighed by how rare it is among the articles (idf). A text is
scored against every article at once (numpy sums the postings of its words),
as the cosine of the two vectors: 0 shares nothing, 1 says the same. The
score is comparable between texts and desks, so one threshold (`[kb]
min_score`) can say "no suggestion" rather than a wrong one.

An article's words are cut once, when it is saved (`cut`, kept in its row),
so building the index of 10 000 articles cuts nothing; the build itself is
numpy over all (article, word) pairs at once (bench/kb_match.py).
"""

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from maildesk.kb.segment import words

WEIGHTS = (3.0, 2.0, 1.0)  # title, labels (tags and category), body
QUERY_CHARS = 4000  # of a mail's subject and text: the problem is stated at the top


@dataclass(frozen=True)
class Entry:
    """What the index knows of one published article."""

    article_id: int
    slug: str
    title: str
    locale: str
    category: str | None


@dataclass(frozen=True)
class Hit:
    entry: Entry
    score: float  # cosine similarity, 0..1


def cut(title: str, labels: str, body: str) -> str:
    """An article's words as its row keeps them: one line per field, words one space apart."""
    return "\n".join(" ".join(words(text)) for text in (title, labels, body))


def weigh(kept: str) -> Counter[str]:
    """The words `cut` kept, each counted with the weight of the field it is in."""
    counts: Counter[str] = Counter()
    for line, weight in zip(kept.split("\n"), WEIGHTS, strict=False):
        for word in line.split():
            counts[word] += weight  # type: ignore[assignment] # a Counter of floats
    return counts


class Index:
    """The articles' vectors as postings: for each word, the articles and their weights."""

    def __init__(self, entries: Sequence[Entry], weighted: Sequence[Counter[str]]) -> None:
        import numpy as np  # here, not at import: every command would pay for it

        self.entries = tuple(entries)
        vocabulary: dict[str, int] = {}
        documents: list[int] = []
        word_ids: list[int] = []
        counts: list[float] = []
        for number, found in enumerate(weighted):
            documents += [number] * len(found)
            word_ids += [vocabulary.setdefault(w, len(vocabulary)) for w in found]
            counts += found.values()
        at = np.array(documents, dtype=np.int32)
        ids = np.array(word_ids, dtype=np.int64)
        frequency = np.bincount(ids, minlength=len(vocabulary))
        idf = np.log((len(self.entries) + 1) / (frequency + 1)) + 1.0
        values = (1.0 + np.log(np.array(counts, dtype=np.float64))) * idf[ids]
        norms = np.sqrt(np.bincount(at, weights=values * values, minlength=len(self.entries)))
        values /= np.where(norms[at] > 0, norms[at], 1.0)
        order = np.argsort(ids, kind="stable")
        bounds = np.searchsorted(ids[order], np.arange(len(vocabulary) + 1))
        self.idf = dict(zip(vocabulary, idf.tolist(), strict=True))
        self.postings = {
            word: (at[order[bounds[n] : bounds[n + 1]]], values[order[bounds[n] : bounds[n + 1]]])
            for word, n in vocabulary.items()
        }
        locales = [e.locale for e in self.entries]
        self.locales = {loc: np.array([x == loc for x in locales]) for loc in set(locales)}

    @classmethod
    def build(cls, entries: Iterable[tuple[Entry, str, str, str]]) -> "Index":
        """From (entry, title, labels, body) of each article: their words cut here."""
        listed = list(entries)
        return cls([e for e, *_ in listed], [weigh(cut(*texts)) for _, *texts in listed])

    def __len__(self) -> int:
        return len(self.entries)

    def search(
        self, text: str, limit: int, min_score: float = 0.0, locale: str | None = None
    ) -> list[Hit]:
        """The best `limit` articles for `text` scoring at least `min_score` (and above 0),
        best first; only those in `locale` when one is given."""
        import numpy as np  # loaded by __init__ already: a lookup in sys.modules

        counts = Counter(words(text[:QUERY_CHARS]))
        known = [w for w in counts if w in self.postings]
        if not known or (locale is not None and locale not in self.locales):
            return []
        # A word no article has is as rare as can be: it counts in the text's length,
        # so a mail about something else is not matched by the one word it shares.
        unseen = math.log(len(self.entries) + 1) + 1.0
        query = {w: (1.0 + math.log(n)) * self.idf.get(w, unseen) for w, n in counts.items()}
        norm = math.sqrt(sum(v * v for v in query.values()))
        at = np.concatenate([self.postings[w][0] for w in known])
        weights = np.concatenate([self.postings[w][1] * (query[w] / norm) for w in known])
        scores = np.bincount(at, weights=weights, minlength=len(self.entries))
        if locale is not None:
            scores = np.where(self.locales[locale], scores, 0.0)
        top = min(limit, len(scores))
        best = np.argpartition(-scores, top - 1)[:top] if top else np.array([], dtype=np.int64)
        best = best[np.argsort(-scores[best], kind="stable")]
        floor = max(min_score, 1e-9)
        return [Hit(self.entries[n], float(scores[n])) for n in best if scores[n] >= floor]
