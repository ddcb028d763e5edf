"""A customer's "solved" / "已解决" to the articles their acknowledgement suggested: the
ticket is resolved without an agent.

Only on an open or pending ticket that had suggestions, and only from its
customer (intake checks the sender). The resolution goes through
tickets.set_status with Cause.SELF_SERVICE, so the event table does the
rest: the SLA clocks are met as self-service, the survey is scheduled as for
any resolution, and no status mail tells the customer what they just said.
The suggested articles are noted as accepted (reports count them).
"""

import re
import unicodedata
from datetime import datetime

from sqlalchemy.orm import Session

from maildesk.desk import tickets
from maildesk.desk.context import Desk
from maildesk.desk.events import Cause
from maildesk.kb import articles
from maildesk.store.kb_tables import UseKind
from maildesk.store.tables import Status, Ticket

SELF_SERVICE = "self_service"  # the ticket's event: which articles solved it
_END = r"(?=$|[\s,.!;:，。！；：~])"
_SOLVED = re.compile(
    r"(?:(?:yes|thanks|thank you|great|perfect)[\s,.!]+)?"
    r"(?:(?:it|this|that|problem|issue|the problem|my problem)(?:'s| is| was| has been)?\s+)?"
    rf"(?:solved|resolved|fixed){_END}"
    r"|(?:(?:好的|谢谢|太好了)[，,。！!\s]*)?(?:问题)?(?:已经|已)?(?:解决|搞定)(?:了)?" + _END
)


def says_solved(text: str) -> bool:
    """The first line of `text` (quotes already cut) says the problem is solved."""
    lines = unicodedata.normalize("NFKC", text).casefold().splitlines()
    first = next((line.strip() for line in lines if line.strip()), "")
    return _SOLVED.match(first) is not None


def take(session: Session, app: Desk, ticket: Ticket, text: str, now: datetime) -> bool:
    """Resolve `ticket` if `text` says its suggestions solved it; True when it did."""
    if ticket.status not in (Status.OPEN, Status.PENDING) or not says_solved(text):
        return False
    suggested = articles.used_on(session, ticket.id, UseKind.SUGGESTED)
    if not suggested:
        return False
    articles.use(session, suggested, ticket.id, UseKind.ACCEPTED, ticket.customer, now)
    detail = "articles " + ", ".join(map(str, suggested))
    tickets.record(session, app.batch, ticket, SELF_SERVICE, detail, ticket.customer, now)
    tickets.set_status(
        session, app, ticket, Status.RESOLVED, ticket.customer, now, Cause.SELF_SERVICE
    )
    return True
