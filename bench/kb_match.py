"""Matching a mail against 10 000 articles: the time per mail, on SQLite and PostgreSQL.

    python bench/kb_match.py [--articles 10000] [--rounds 5]

A desk with N published articles (half English, half Chinese: the 34 of
bench/kb_eval/ and generated ones from their words, bulk inserted), then each
question of bench/kb_eval/questions.tsv matched as intake does it:

  build         the first index of the process (every article's words cut), once
  check         the query that sees whether the articles changed (once per batch)
  match         the index searched for one mail's subject and text (per mail)
  per mail      match + check / 100 (intake's batches of 100): the target is <= 5 ms
  precision@3   the evaluation's figures again, with the generated articles beside
                (each word of theirs one of the evaluation's articles' with
                probability 0.2, else one of 20 000 made-up words of their locale)

The PostgreSQL part uses the suite's throwaway cluster (tests/postgres.py) and
is skipped with a note when initdb is missing. Nothing is asserted.
"""

import argparse
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from harness import desk_head  # noqa: E402
from kb_eval import load  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from maildesk import config as config_module  # noqa: E402
from maildesk.app import App  # noqa: E402
from maildesk.demo.servers import free_port  # noqa: E402
from maildesk.kb import articles, files  # noqa: E402
from maildesk.kb.index import cut  # noqa: E402
from maildesk.kb.segment import words  # noqa: E402
from maildesk.store import db  # noqa: E402
from maildesk.store.kb_tables import Article  # noqa: E402
from tests import postgres  # noqa: E402

EVAL = Path(__file__).parent / "kb_eval"
NOW = datetime(2026, 12, 3, tzinfo=UTC)
BATCH = 100  # intake's batch: one check per batch
SHARED = 0.2  # of a generated article's words, the share taken from the evaluation's


def generated(count: int, seed: int = 7) -> list[dict]:
    """`count` articles: the evaluation's, then ones made of their words (by locale)."""
    shipped = [files.read(p) for p in sorted((EVAL / "articles").glob("*.md"))]
    vocabulary: dict[str, list[str]] = {"en": [], "zh": []}
    for text in shipped:
        vocabulary[text.locale] += words(f"{text.title} {text.body}")
    rows = [
        _row(t.slug or "", t.title, t.body, t.locale, t.category, " ".join(t.tags))
        for t in shipped
    ]
    pick = random.Random(seed)
    own = {"en": _latin_words(pick, 20_000), "zh": _han_words(pick, 20_000)}
    for n in range(len(rows), count):
        locale = "en" if n % 2 else "zh"
        gap = " " if locale == "en" else "，"

        def some(k: int, locale: str = locale) -> list[str]:
            """SHARED of them words of the evaluation's articles, the rest the desk's own."""
            return [
                pick.choice(vocabulary[locale] if pick.random() < SHARED else own[locale])
                for _ in range(k)
            ]

        title = gap.join(some(5))
        body = gap.join(some(pick.randint(40, 120)))
        rows.append(_row(f"generated-{n}", title, body, locale, f"topic-{n % 40}", ""))
    return rows


def _latin_words(pick: random.Random, count: int) -> list[str]:
    syllables = [a + b for a in "bcdfgklmnprstvz" for b in "aeiou"]
    return ["".join(pick.choices(syllables, k=pick.randint(2, 4))) for _ in range(count)]


def _han_words(pick: random.Random, count: int) -> list[str]:
    return ["".join(chr(pick.randint(0x4E00, 0x9FA5)) for _ in range(2)) for _ in range(count)]


def _row(slug: str, title: str, body: str, locale: str, category: str | None, tags: str) -> dict:
    return {
        "slug": slug, "title": title, "body": body, "locale": locale, "category": category,
        "tags": tags, "status": "published", "revision": 1, "file": None,
        "words": cut(title, f"{tags} {category or ''}", body),
        "created_at": NOW, "updated_at": NOW,
    }  # fmt: skip


def measure(name: str, url: str, work: Path, rows: list[dict], rounds: int) -> None:
    path = work / f"{name}.toml"
    path.write_text(desk_head(url), encoding="utf-8")
    app = App.build(config_module.load(path))
    try:
        db.upgrade(app.engine)
        with db.transaction(app.sessions, write=True) as session:
            session.execute(insert(Article.__table__), rows)
            articles.changed(session)
        with db.transaction(app.sessions) as session:
            started = time.perf_counter()
            index = app.knowledge.index(session)
            build = time.perf_counter() - started
            checks = []
            for _ in range(50):
                started = time.perf_counter()
                app.knowledge.index(session)
                checks.append(time.perf_counter() - started)
        _, questions = load(EVAL)
        matches, found, answerable, wrong, unanswerable = [], 0, 0, 0, 0
        for _ in range(rounds):
            for locale, wanted, question in questions:
                started = time.perf_counter()
                hits = index.search(question, 3, app.config.kb.min_score, locale)
                matches.append(time.perf_counter() - started)
                slugs = [h.entry.slug.removesuffix("-zh") for h in hits]
                if wanted == "-":
                    unanswerable, wrong = unanswerable + 1, wrong + bool(hits)
                else:
                    answerable, found = answerable + 1, found + (wanted in slugs)
        check = statistics.median(checks)
        match = statistics.median(matches)
        p95 = statistics.quantiles(matches, n=20)[-1]
        print(f"{name}: {len(index)} articles")
        print(f"  build {build:.1f} s (once per process), check {check * 1000:.2f} ms per batch")
        longest = max(matches)
        print(
            f"  match median {match * 1000:.2f} ms, p95 {p95 * 1000:.2f}, max {longest * 1000:.2f}"
        )
        print(f"  per mail {(match + check / BATCH) * 1000:.2f} ms (target <= 5 ms)")
        print(
            f"  precision@3 {found / answerable:.1%}, false suggestions {wrong / unanswerable:.1%}"
        )
    finally:
        app.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5, help="times each question is matched")
    args = parser.parse_args()
    os.environ.setdefault("MAILDESK_SECRET", secrets.token_hex(16))
    rows = generated(args.articles)
    work = Path(tempfile.mkdtemp(prefix="maildesk-kb-match-"))
    measure("sqlite", f"sqlite:///{work / 'kb.db'}", work, rows, args.rounds)
    try:
        cluster = postgres.start(free_port())
    except FileNotFoundError as exc:
        print(f"PostgreSQL skipped: {exc} not found")
        return
    try:
        measure("postgresql", cluster.new_database(), work, rows, args.rounds)
    finally:
        postgres.stop(cluster)


if __name__ == "__main__":
    main()
