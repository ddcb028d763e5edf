"""How well the knowledge base suggests articles: precision at 3 and false suggestions.

    python bench/kb_eval.py [--set bench/kb_eval] [--min-score S]

The set is a folder: `articles/*.md` (the knowledge base, files as `kb import`
reads them) and `questions.tsv` (locale, the slug of the right article
without its `-zh`, or `-` when none answers it, and the question as
"subject | text"). Each question is matched as the acknowledgement does
(the customer's locale, three at most, `[kb] min_score`):

- precision@3: the share of answerable questions whose article is suggested
  (target >= 85 %);
- false-suggestion rate: the share of unanswerable questions that get any
  suggestion (target <= 10 %).
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from maildesk.config.kb import DEFAULT_MIN_SCORE, MAX_SUGGESTIONS  # noqa: E402
from maildesk.kb import files  # noqa: E402
from maildesk.kb.index import Entry, Index  # noqa: E402


def load(folder: Path) -> tuple[Index, list[tuple[str, str, str]]]:
    articles = []
    for number, path in enumerate(sorted((folder / "articles").glob("*.md")), start=1):
        found = files.read(path)
        labels = " ".join((*found.tags, found.category or ""))
        entry = Entry(number, found.slug or "", found.title, found.locale, found.category)
        articles.append((entry, found.title, labels, found.body))
    questions = []
    for line in (folder / "questions.tsv").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            locale, wanted, question = line.split("\t")
            questions.append((locale, wanted, question.replace(" | ", "\n", 1)))
    return Index.build(articles), questions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--set", type=Path, default=Path(__file__).parent / "kb_eval")
    parser.add_argument("--min-score", type=float, default=DEFAULT_MIN_SCORE)
    parser.add_argument("--misses", action="store_true", help="print each question missed")
    args = parser.parse_args()
    index, questions = load(args.set)
    found = wrong = answerable = unanswerable = first = 0
    for locale, wanted, question in questions:
        hits = index.search(question, MAX_SUGGESTIONS, args.min_score, locale)
        slugs = [h.entry.slug.removesuffix("-zh") for h in hits]
        if wanted == "-":
            unanswerable += 1
            wrong += bool(hits)
            missed = bool(hits)
        else:
            answerable += 1
            found += wanted in slugs
            first += slugs[:1] == [wanted]
            missed = wanted not in slugs
        if args.misses and missed:
            shown = ", ".join(f"{h.entry.slug} {h.score:.3f}" for h in hits) or "none"
            print(f"  {wanted:22} {question.splitlines()[0][:40]!r:44} -> {shown}")
    print(
        f"articles {len(index)}, questions {len(questions)}"
        f" ({answerable} with an article, {unanswerable} without), min_score {args.min_score}"
    )
    print(
        f"precision@3: {found / answerable:.1%} (target >= 85 %); the right one first: "
        f"{first / answerable:.1%}"
    )
    print(f"false-suggestion rate: {wrong / unanswerable:.1%} (target <= 10 %)")


if __name__ == "__main__":
    main()
