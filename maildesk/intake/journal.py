"""The one log line of each mail in: where it came from, what it was, what the desk did
with it, and how long that took (`event="mail_in"`; the README's "Logs" lists the fields).

No subject, body, name or address: the Message-ID and the ticket number say which
mail it was, for whoever may read the ticket itself.
"""

import logging
import time

from maildesk.intake.state import Intake
from maildesk.mail.classify import MailClass
from maildesk.mail.message import Incoming

log = logging.getLogger(__name__)


def mail_in(
    ctx: Intake | None,
    outcome: str,
    mailbox: str | None,
    uid: int | None,
    started: float,
) -> None:
    """Log the mail of `ctx` (None: it never got as far) once its `outcome` is known;
    `started` is the `time.perf_counter()` when its processing began."""
    parsed = ctx.parsed if ctx is not None else None
    message_id = parsed.message_id if isinstance(parsed, Incoming) else None
    stored = ctx if ctx is not None and outcome == "stored" else None  # the rest rolled back
    fields = {
        "event": "mail_in",
        "mailbox": mailbox,
        "uid": uid,
        "message_id": message_id or None,
        "ticket": _ticket_number(stored) if stored else None,
        "class": str(stored.mail_class) if stored else None,
        "action": action(stored) if stored else outcome,
        "ms": round((time.perf_counter() - started) * 1000, 1),
    }
    level = logging.WARNING if outcome == "quarantined" else logging.INFO
    log.log(level, "mail in", extra=fields)


def action(ctx: Intake) -> str:
    """What the desk did with a stored mail, in one word."""
    if ctx.agent is not None and ctx.finished:
        return "agent_reply"
    if ctx.rated:
        return "survey_answer"
    if ctx.self_served:
        return "self_service"
    if ctx.mail_class is not MailClass.HUMAN:
        return "filed"  # kept on its ticket, never answered: no mail loops
    return "opened" if ctx.is_new else "follow_up"


def _ticket_number(ctx: Intake) -> int | None:
    """The number of the ticket the mail is on (an agent's reply: the one it changed)."""
    ticket = ctx.found if ctx.finished else ctx.ticket
    return ticket.number if ticket is not None else None
