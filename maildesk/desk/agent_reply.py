"""A proven agent's reply: its commands applied all or nothing, its answer relayed.

The agent's mail is stored on the ticket as it came (class "agent"): the
unique index of incoming Message-IDs then makes sure the same mail is never
applied twice, whichever worker sees it again (and a copy under a new
Message-ID is a replay: proof.py spent its proof). A block with one bad line
changes nothing, relays nothing, and the agent gets a reply quoting the line
and the valid forms. `#note` keeps the whole reply internal. Otherwise the
text below the commands goes to the customer, From the support address in
the agent's name, threaded on the customer's mail, with the files the agent
attached and the article `#answer` names below it (kb_mail.py); it is the
first response if none came before (and any agent mail is the review the SLA
asks of P0/P1 tickets: sla/react.py). An answer to a customer
address we do not deliver to is not sent, and the agent hears why.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from maildesk.config import AgentConfig
from maildesk.desk import actions, agent_notify, commands, copies, kb_mail, messages, tickets
from maildesk.desk.commands import CommandError
from maildesk.desk.context import Desk
from maildesk.desk.notify import Draft, attachment, queue_mail, ticket_context, unsendable
from maildesk.mail.classify import MailClass
from maildesk.mail.message import Incoming, Part
from maildesk.store.tables import Direction, Message, OutboxKind, Ticket


def handle(
    session: Session,
    app: Desk,
    agent: AgentConfig,
    ticket: Ticket,
    mail: Incoming,
    raw_id: int,
    source: str,
    now: datetime,
) -> None:
    messages.add_incoming(session, app.batch, ticket, mail, MailClass.AGENT, raw_id, source, now)
    message_id = mail.message_id or "a mail without a Message-ID"
    try:
        executed = actions.execute(
            session, app, ticket, mail.new_text, agent.email, message_id, now
        )
    except CommandError as error:
        detail = f"{error.reason}: {error.line} (in {mail.message_id})"
        tickets.record(session, app.batch, ticket, "command_refused", detail, agent.email, now)
        extra = {"line": error.line, "reason": error.reason, "reason_zh": error.reason_zh}
        tell_agent(session, app, ticket, agent, mail, "agent_command_error", extra, now)
        return
    parsed = executed.parsed
    if any(c.name == "help" for c in parsed.commands):
        tell_agent(session, app, ticket, agent, mail, "command_help", {}, now)
    text = "\n\n".join(part for part in (parsed.body.strip(), executed.answer) if part)
    answered = not parsed.internal and bool(text)
    if answered:
        why = relay(session, app, ticket, agent, text, now, mail.parts)
        if why is not None:  # not sent, so no response: the agent hears why
            answered = False
            tell_agent(session, app, ticket, agent, mail, "answer_not_sent", {"reason": why}, now)
        elif executed.article is not None:
            kb_mail.answered_with(session, app.batch, ticket, executed.article, agent, now)
    tickets.agent_wrote(session, app, ticket, agent, answered, now)


def relay(
    session: Session,
    app: Desk,
    ticket: Ticket,
    agent: AgentConfig,
    text: str,
    now: datetime,
    parts: Sequence[Part] = (),
) -> str | None:
    """The agent's answer to the customer, as a human mail (no Auto-Submitted), with the
    files of their reply (inline images too, as plain attachments); returns why it was not
    sent (the customer's address is not one we deliver to), or None."""
    draft = Draft(
        OutboxKind.AGENT_REPLY,
        (ticket.customer,),
        f"Re: {ticket.subject}",
        text,
        _last_from_customer(session, ticket),
        auto_submitted=None,
        sender_name=f"{agent.name} via {app.config.desk.name}",
        attachments=tuple(attachment(part) for part in parts),
        cc=copies.copied(session, app, ticket),
    )
    return unsendable(draft) if queue_mail(session, app, ticket, draft, now) is None else None


def tell_agent(
    session: Session,
    app: Desk,
    ticket: Ticket,
    agent: AgentConfig,
    mail: Incoming,
    template: str,
    extra: dict[str, Any],
    now: datetime,
) -> str | None:
    """A reply of the desk to the agent (an error, the help), threaded on their mail; the
    Message-ID, or None when it was not sent (agent_notify.mail_agent)."""
    context = ticket_context(app, ticket) | {"help": commands.HELP} | extra
    return agent_notify.mail_agent(
        session, app, ticket, agent, template, context, now, answers=mail.message_id
    )


def _last_from_customer(session: Session, ticket: Ticket) -> str | None:
    return session.scalar(
        select(Message.message_id)
        .where(
            Message.ticket_id == ticket.id,
            Message.direction == Direction.IN,
            Message.mail_class == MailClass.HUMAN,
        )
        .order_by(Message.id.desc())
        .limit(1)
    )
