"""Which articles answer a text: a TF-IDF index over the published articles, in memory.

Each article is one vector of its words (segment.py): the title counts three
times, tags and category twice, the body once, each word's count damped
(1 + log) and weighed by how rare it is among the articles (idf). A text is
scored against every article at once (numpy sums the postings of its words),
as the cosine of the two vectors: 0 shares nothing, 1 says the same. The
score is comparable between texts and desks, so one threshold (`[kb]
min_score`) can say "no suggestion" rather than a wrong one.

Built once per change of the articles (knowledge.py); scoring a mail against
10 000 articles takes well under a millisecond after its words are cut
(bench/kb_match.py).
"""

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from maildesk.kb.segment import words

TITLE_WEIGHT, LABEL_WEIGHT, BODY_WEIGHT = 3.0, 2.0, 1.0
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


def weigh(title: str, labels: str, body: str) -> Counter[str]:
    """An article's words, each counted with the weight of the field it is in."""
    counts: Counter[str] = Counter()
    for text, weight in ((title, TITLE_WEIGHT), (labels, LABEL_WEIGHT), (body, BODY_WEIGHT)):
        for word in words(text):
            counts[word] += weight  # type: ignore[assignment] # a Counter of floats
    return counts


class Index:
    """The articles' vectors as postings: for each word, the articles and their weights."""

    def __init__(self, entries: Sequence[Entry], weighted: Sequence[Counter[str]]) -> None:
        self.entries = tuple(entries)
        documents = len(entries)
        frequency = Counter(word for counts in weighted for word in counts)
        self.idf = {w: math.log((documents + 1) / (n + 1)) + 1.0 for w, n in frequency.items()}
        postings: dict[str, tuple[list[int], list[float]]] = {}
        for number, counts in enumerate(weighted):
            vector = {w: (1.0 + math.log(n)) * self.idf[w] for w, n in counts.items()}
            norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
            for word, value in vector.items():
                at, weights = postings.setdefault(word, ([], []))
                at.append(number)
                weights.append(value / norm)
        self.postings = {
            w: (np.array(at, dtype=np.int32), np.array(ws, dtype=np.float32))
            for w, (at, ws) in postings.items()
        }
        self.locales = np.array([e.locale for e in entries], dtype=object)

    @classmethod
    def build(cls, entries: Iterable[tuple[Entry, str, str, str]]) -> "Index":
        """From (entry, title, labels, body) of each article."""
        listed = list(entries)
        return cls([e for e, *_ in listed], [weigh(*texts) for _, *texts in listed])

    def __len__(self) -> int:
        return len(self.entries)

    def search(
        self, text: str, limit: int, min_score: float = 0.0, locale: str | None = None
    ) -> list[Hit]:
        """The best `limit` articles for `text` scoring at least `min_score` (and above 0),
        best first; only those in `locale` when one is given."""
        counts = Counter(words(text[:QUERY_CHARS]))
        known = [w for w in counts if w in self.postings]
        if not known:
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
            scores[self.locales != locale] = 0.0
        best = np.argsort(-scores, kind="stable")[:limit]
        floor = max(min_score, 1e-9)
        return [Hit(self.entries[n], float(scores[n])) for n in best if scores[n] >= floor]
