"""What `/metrics` and `/readyz` say (the web listener's Monitor): the status of the desk
as Prometheus gauges, and whether this worker is ready.

The gauges here are stock kept in the database (the outbox, tickets, SLA
clocks breached, the quarantine, each mailbox's last successful poll): read
at each scrape, the same from every worker. The events this process saw are
counted in its Meter (meter.py), which renders both.
Ready means the database answers (`SELECT 1`) and every mailbox had a
successful poll within status.LATE_INTERVALS poll intervals.
"""

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from maildesk.app import App
from maildesk.errors import MaildeskError
from maildesk.meter import Reading
from maildesk.store.db import transaction, unavailable_is_temporary
from maildesk.views.status import LATE_INTERVALS, polls, status

log = logging.getLogger(__name__)


class Health:
    """The monitor of one App: its Meter reads the database's gauges through `stock`."""

    def __init__(self, app: App) -> None:
        self.app = app
        app.meter.read_stock(self.stock)

    def metrics(self) -> tuple[bytes, str]:
        return self.app.meter.exposition()

    def readiness(self) -> tuple[bool, str]:
        """(ready, the reasons it is not, a line each; or "ready")."""
        app = self.app
        try:
            with unavailable_is_temporary(), transaction(app.sessions) as session:
                session.execute(text("SELECT 1"))
                found = polls(session, app.clock(), app.config.mailboxes)
        except (SQLAlchemyError, MaildeskError) as exc:
            return False, f"database unreachable: {exc}"
        reasons = [_lateness(mailbox) for mailbox in found if mailbox["late"]]
        return not reasons, "\n".join(reasons) or "ready"

    def stock(self) -> list[Reading]:
        """The database's gauges; only maildesk_database_up (0) when it does not answer."""
        app = self.app
        try:
            with unavailable_is_temporary(), transaction(app.sessions) as session:
                data = status(session, app.clock(), app.config.mailboxes)
        except (SQLAlchemyError, MaildeskError) as exc:
            log.warning("metrics without the database's figures: %s", exc)
            return [_database_up(0)]
        return [_database_up(1), *readings(data)]


def _lateness(mailbox: dict[str, Any]) -> str:
    name, ago = mailbox["name"], mailbox["last_poll_seconds"]
    if ago is None:
        return f"mailbox {name}: no successful poll yet"
    limit = LATE_INTERVALS * mailbox["poll_interval"]
    return f"mailbox {name}: last successful poll {ago} s ago, over {limit:g} s"


def _database_up(value: int) -> Reading:
    return _one("maildesk_database_up", "1 when the database answered this scrape", value)


def readings(data: dict[str, Any]) -> list[Reading]:
    """`status`'s figures as gauges."""
    box = data["outbox"]
    polled = [m for m in data["mailboxes"] if m["last_poll_at"] is not None]
    return [
        Reading(
            "maildesk_outbox_mails",
            "Outbox mails by status (pending: queued, not yet sent)",
            ("status",),
            tuple(((s,), box[s]) for s in ("pending", "sent", "failed")),
        ),
        _one(
            "maildesk_outbox_oldest_pending_seconds",
            "Age of the oldest pending mail (0: none)",
            box["oldest_pending_seconds"] or 0,
        ),
        Reading(
            "maildesk_tickets",
            "Tickets by status",
            ("status",),
            tuple(((s,), n) for s, n in data["tickets"].items()),
        ),
        _one(
            "maildesk_sla_breached_open_clocks",
            "SLA clocks breached and still running or paused",
            data["sla_breached"]["open"],
        ),
        _one(
            "maildesk_sla_breached_clocks",
            "SLA clocks ever breached",
            data["sla_breached"]["total"],
        ),
        _one("maildesk_quarantined_mails", "Quarantined mails not replayed", data["quarantined"]),
        Reading(
            "maildesk_mailbox_last_poll_timestamp_seconds",
            "When the mailbox last completed a poll cycle (Unix time; any worker)",
            ("mailbox",),
            tuple(((m["name"],), _unix(m["last_poll_at"])) for m in polled),
        ),
        Reading(
            "maildesk_mailbox_poll_late",
            f"1 when the mailbox had no successful poll in {LATE_INTERVALS} poll intervals",
            ("mailbox",),
            tuple(((m["name"],), int(m["late"])) for m in data["mailboxes"]),
        ),
    ]


def _one(name: str, help_text: str, value: float) -> Reading:
    return Reading(name, help_text, (), (((), value),))


def _unix(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()
