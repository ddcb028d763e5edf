"""The knowledge base's part of `report`: what self-service resolved, which articles were
used, and the categories with the most tickets and no article (the gaps to write next).

Over the period's tickets (report.py passes their ids), like the rest of the
report. The keys, each always present:

- `self_service`: {tickets (resolved by the customer's "solved"), suggested (tickets
  whose acknowledgement listed articles), rate (of the suggested, the share resolved)}
- `articles_used`: {answers (sent with #answer), accepted (suggestions a customer
  accepted), articles: [{number, slug, title, answers, accepted}], 10 at most, most first}
- `kb_gaps`: [{category, tickets}]: categories of the period's tickets that no published
  article has, 10 at most, most tickets first
"""

from typing import Any

from sqlalchemy import Select, case, distinct, func, select
from sqlalchemy.orm import Session

from maildesk.desk.self_service import SELF_SERVICE
from maildesk.store.kb_tables import Article, ArticleStatus, ArticleUse, UseKind
from maildesk.store.tables import Event, Ticket

TOP = 10


def figures(session: Session, ids: Select[Any]) -> dict[str, Any]:
    """The knowledge base's figures of the tickets `ids` selects."""
    served = session.scalar(
        select(func.count(distinct(Event.ticket_id))).where(
            Event.ticket_id.in_(ids), Event.kind == SELF_SERVICE
        )
    )
    suggested = session.scalar(
        select(func.count(distinct(ArticleUse.ticket_id))).where(
            ArticleUse.ticket_id.in_(ids), ArticleUse.kind == UseKind.SUGGESTED
        )
    )
    return {
        "self_service": {
            "tickets": served or 0,
            "suggested": suggested or 0,
            "rate": round(served / suggested, 4) if suggested and served is not None else None,
        },
        "articles_used": _used(session, ids),
        "kb_gaps": _gaps(session, ids),
    }


def _used(session: Session, ids: Select[Any]) -> dict[str, Any]:
    answers = func.sum(case((ArticleUse.kind == UseKind.ANSWER, 1), else_=0))
    accepted = func.sum(case((ArticleUse.kind == UseKind.ACCEPTED, 1), else_=0))
    used = (ArticleUse.kind.in_((UseKind.ANSWER, UseKind.ACCEPTED)), ArticleUse.ticket_id.in_(ids))
    rows = session.execute(
        select(Article.id, Article.slug, Article.title, answers, accepted)
        .join(ArticleUse, ArticleUse.article_id == Article.id)
        .where(*used)
        .group_by(Article.id, Article.slug, Article.title)
        .order_by((answers + accepted).desc(), Article.id)
    ).all()
    listed = [
        {"number": n, "slug": slug, "title": title, "answers": int(a), "accepted": int(c)}
        for n, slug, title, a, c in rows
    ]
    return {
        "answers": sum(a["answers"] for a in listed),
        "accepted": sum(a["accepted"] for a in listed),
        "articles": listed[:TOP],
    }


def _gaps(session: Session, ids: Select[Any]) -> list[dict[str, Any]]:
    covered = select(Article.category).where(
        Article.status == ArticleStatus.PUBLISHED, Article.category.is_not(None)
    )
    count = func.count()
    rows = session.execute(
        select(Ticket.category, count)
        .where(Ticket.id.in_(ids), Ticket.category.is_not(None), Ticket.category.not_in(covered))
        .group_by(Ticket.category)
        .order_by(count.desc(), Ticket.category)
        .limit(TOP)
    )
    return [{"category": category, "tickets": n} for category, n in rows]
