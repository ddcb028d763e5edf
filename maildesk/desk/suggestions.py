"""The published articles that match a customer's words: for their acknowledgement (in
their language, rendered, noted as suggested on the ticket) and for agents' notices.

The index is the process's (kb/knowledge.py), checked for changes once per
unit of work (the Batch keeps it), so a batch of 100 mails asks once. A
match below `[kb] min_score` is no suggestion: none is better than a wrong one.
"""

import logging
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from maildesk.desk.context import Desk
from maildesk.desk.notify import ticket_context
from maildesk.errors import TemplateError
from maildesk.kb import articles
from maildesk.kb.index import Hit, Index
from maildesk.mail.message import Incoming
from maildesk.store.kb_tables import Article, UseKind
from maildesk.store.tables import Ticket

log = logging.getLogger(__name__)


def matching(session: Session, app: Desk, ticket: Ticket, mail: Incoming) -> list[Hit]:
    """The best published articles in the ticket's language for the mail's subject and text."""
    index = _index(session, app)
    if not len(index):
        return []
    text = f"{mail.subject}\n{mail.new_text or mail.text}"
    kb = app.config.kb
    return index.search(text, kb.suggestions, kb.min_score, ticket.locale)


def for_customer(
    session: Session, app: Desk, ticket: Ticket, hits: list[Hit]
) -> list[dict[str, Any]]:
    """The hits as the acknowledgement lists them (number, slug, title, text); an article
    that does not render is left out and logged."""
    shown = []
    context = ticket_context(app, ticket)
    for hit in hits:
        article = session.get_one(Article, hit.entry.article_id)
        try:
            text = app.templates.render_text(article.body, context, f"article {article.id}")
        except TemplateError as error:
            log.warning("%s (not suggested)", error)
            continue
        shown.append(_listed(article) | {"text": text.strip()})
    return shown


def suggested(
    session: Session, ticket: Ticket, shown: list[dict[str, Any]], now: datetime
) -> None:
    """The articles the acknowledgement listed, noted on the ticket: "solved" accepts them."""
    articles.use(session, [s["number"] for s in shown], ticket.id, UseKind.SUGGESTED, "", now)


def for_agents(hits: list[Hit]) -> list[dict[str, Any]]:
    """The hits as agents' notifications list them, with their score."""
    return [
        {"number": h.entry.article_id, "slug": h.entry.slug, "title": h.entry.title}
        | {"score": round(h.score, 2)}
        for h in hits
    ]


def _index(session: Session, app: Desk) -> Index:
    if app.batch.kb_index is None:
        app.batch.kb_index = app.knowledge.index(session)
    return app.batch.kb_index


def _listed(article: Article) -> dict[str, Any]:
    return {"number": article.id, "slug": article.slug, "title": article.title}
