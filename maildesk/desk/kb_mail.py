"""The knowledge base by mail: `#kb [title]`, `#kb publish N`, `#answer <slug or N>`.

actions.py asks here what each command needs of the desk (checked before
anything is applied: all or nothing) and applies it after. `#kb` keeps the
reply's answer (its commands and the quoted history already gone) as a draft
linked to the ticket and tells the leads, who publish it with `#kb publish
N`. `#answer` puts the article, rendered in the templates' sandbox with the
ticket's values, below the agent's own text; agent_reply.py relays both as
the agent's answer, so it is the first response like any answer.
"""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from maildesk.config import AgentConfig, Config
from maildesk.desk import agent_notify, routing, tickets
from maildesk.desk.batch import Batch
from maildesk.desk.commands import Command, CommandError
from maildesk.desk.context import Desk
from maildesk.desk.notify import ticket_context
from maildesk.errors import TemplateError
from maildesk.kb import articles
from maildesk.kb.files import ArticleText
from maildesk.store.kb_tables import Article, ArticleStatus, UseKind
from maildesk.store.tables import Ticket, TicketTag

KB_DRAFT = "kb_draft"  # the ticket's event, and the template telling the leads


def check_kb(
    session: Session, config: Config, actor: str, command: Command, body: str
) -> tuple[str, str]:
    """(field, value) of a `#kb` line: a draft of `body`, or publishing article N."""
    if command.value.startswith("publish "):
        article = _article(session, command, command.value.removeprefix("publish "))
        if not may_publish(config, actor):
            raise CommandError(
                command.line, "only a lead or an admin publishes", "只有组长或管理员可以发布"
            )
        if article.status == ArticleStatus.PUBLISHED:
            raise CommandError(
                command.line, f"article {article.id} is published already", "该文章已发布"
            )
        return "kb_publish", str(article.id)
    if not body.strip():
        raise CommandError(
            command.line,
            "#kb needs your answer below the commands",
            "#知识库 需要在命令下方写出答复",
        )
    return "kb_draft", command.value


def check_answer(session: Session, command: Command, internal: bool) -> Article:
    """The published article `#answer` names; never with #note, which sends nothing."""
    if internal:
        raise CommandError(
            command.line,
            "#answer sends to the customer, #note keeps the reply internal",
            "#回复 会发给客户，#备注 不发送",
        )
    article = _article(session, command, command.value)
    if article.status != ArticleStatus.PUBLISHED:
        raise CommandError(
            command.line,
            f"article {article.id} is a draft (#kb publish {article.id})",
            "该文章尚未发布",
        )
    return article


def answer_text(app: Desk, ticket: Ticket, article: Article, command: Command) -> str:
    """The article as the customer reads it: rendered with the ticket's values."""
    context = ticket_context(app, ticket)
    try:
        return app.templates.render_text(article.body, context, f"article {article.id}").strip()
    except TemplateError as error:
        raise CommandError(
            command.line, f"the article does not render ({error})", "文章无法生成"
        ) from None


def save_draft(
    session: Session, app: Desk, ticket: Ticket, title: str, body: str, actor: str, now: datetime
) -> Article:
    """The answer as a draft article from `ticket`; the leads (not the author) hear of it."""
    text = ArticleText(
        title=title or ticket.subject,
        locale=ticket.locale,
        body=body.strip(),
        category=ticket.category,
        tags=tuple(session.scalars(select(TicketTag.tag).where(TicketTag.ticket_id == ticket.id))),
    )
    article = articles.add(session, text, actor, now, unique_slug=True)
    articles.link(session, article, ticket.id)
    detail = f"article {article.id}: {article.title}"
    tickets.record(session, app.batch, ticket, KB_DRAFT, detail, actor, now)
    context = ticket_context(app, ticket) | {"article": _listed(article), "author": actor}
    for lead in routing.leads(app.config, ticket.team):
        if lead.email != actor:
            agent_notify.mail_agent(session, app, ticket, lead, KB_DRAFT, context, now)
    return article


def publish(
    session: Session, batch: Batch, ticket: Ticket, article_id: int, actor: str, now: datetime
) -> None:
    article = session.get_one(Article, article_id)  # check_kb found it
    articles.publish(session, article, actor, now)
    detail = f"article {article.id}: {article.title}"
    tickets.record(session, batch, ticket, "kb_published", detail, actor, now)


def answered_with(
    session: Session,
    batch: Batch,
    ticket: Ticket,
    article: Article,
    agent: AgentConfig,
    now: datetime,
) -> None:
    """The article went to the customer as the agent's answer."""
    articles.use(session, (article.id,), ticket.id, UseKind.ANSWER, agent.email, now)
    detail = f"article {article.id}: {article.title}"
    tickets.record(session, batch, ticket, "kb_answer", detail, agent.email, now)


def may_publish(config: Config, address: str) -> bool:
    agent = config.agent(address)
    if agent is None:
        return False
    return agent.role in ("lead", "admin") or any(agent.email in t.leads for t in config.teams)


def _article(session: Session, command: Command, ref: str) -> Article:
    article = articles.find(session, ref)
    if article is None:
        raise CommandError(command.line, f"no article {ref!r}", f"没有文章 {ref}")
    return article


def _listed(article: Article) -> dict[str, object]:
    return {
        "number": article.id,
        "slug": article.slug,
        "title": article.title,
        "text": article.body,
    }
