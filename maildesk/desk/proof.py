"""Proof that a mail from an agent's address is that agent's reply (From alone proves nothing).

A mail from a configured agent's address is theirs only if all of these hold:

- It references a Message-ID we issued to *that* agent (its HMAC checks with
  our secret and its recipient tag is theirs): another agent's notification,
  another desk's id or a typed tag do not count. threads.py sees to it that
  no mail of ours shows such an id to anyone else.
- We stored that mail of ours, at most `agent_mail.proof_max_age_days` ago:
  an old id that got out (a forwarded notification, an archive) expires.
- It names the one ticket it may change: an id of a ticket since merged
  proves nothing (the agent replies to a mail of the surviving ticket).
- With `require_authentication_results`, the topmost Authentication-Results
  header, the one our receiving server added (RFC 8601 §5: each server adds
  its own above the others), names our `authserv_id` and shows dkim=pass or
  spf=pass for the agent's domain. Headers below it may be the sender's own.
- The proof is single-use per command block and text: the pair (the id that
  proved the reply, a SHA-256 of its new text, whitespace collapsed and
  case-folded) is spent under a unique index (spent_proofs.py), so the same
  reply sent again under a new Message-ID is a replay, refused, even when two
  workers see the copies at once. A different reply to the same notification
  still counts: agents do answer one notification twice.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

import authres
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from maildesk.config import AgentConfig, AgentMailConfig
from maildesk.desk import follow_up, spent_proofs
from maildesk.mail import ids
from maildesk.mail.keys import Keys
from maildesk.mail.message import Incoming
from maildesk.store.db import execute
from maildesk.store.tables import Direction, Message, Ticket

_SENT_AT = select(Message.created_at).where(
    Message.direction == Direction.OUT, Message.message_id == bindparam("message_id")
)


@dataclass(frozen=True)
class Verdict:
    """The ticket a proven reply changes, or why the mail is not the agent's."""

    ticket: Ticket | None
    refusal: str | None = None


def check(
    session: Session,
    settings: AgentMailConfig,
    keys: Keys,
    agent: AgentConfig,
    mail: Incoming,
    now: datetime,
) -> Verdict:
    """Every check above, in order; a reply that passes them all spends its proof."""
    answered = _answered(keys, agent, mail)
    if answered is None:
        return _refused("it answers no mail of ours to this agent (a forged or retyped reference)")
    proof, number = answered
    if settings.require_authentication_results and not authenticated(settings, mail):
        domain = mail.from_addr.rpartition("@")[2]
        return _refused(
            f"the topmost Authentication-Results header is not {settings.authserv_id}'s "
            f"showing dkim=pass or spf=pass for {domain}"
        )
    sent_at = execute(session, _SENT_AT, {"message_id": proof}).scalar()
    ticket = follow_up.by_number(session, number)
    if sent_at is None or ticket is None:
        return _refused("it answers a mail of ours that we have no record of")
    age = now - sent_at
    if age > timedelta(days=settings.proof_max_age_days):
        return _refused(
            f"the mail of ours it answers is {age.days} days old "
            f"(agent_mail.proof_max_age_days is {settings.proof_max_age_days:g})"
        )
    if ticket.merged_into is not None:
        survivor = follow_up.surviving(session, ticket).number
        return _refused(
            f"ticket #{ticket.number} was merged into #{survivor}: reply to a mail of #{survivor}"
        )
    if not spent_proofs.spend(session, proof, mail.new_text, now):
        return _refused(
            "a replay: the same reply to the same mail of ours was applied before "
            "(write something new, or reply to a newer mail of ours)"
        )
    return Verdict(ticket)


def _refused(why: str) -> Verdict:
    return Verdict(None, why)


def _answered(keys: Keys, agent: AgentConfig, mail: Incoming) -> tuple[str, int] | None:
    """The most specific id of ours to this agent that the mail answers (In-Reply-To, then
    References newest first), and the number of the ticket it names."""
    for reference in (*mail.in_reply_to, *reversed(mail.references)):
        found = ids.signed(keys, reference)
        if found is not None and found.bound_to(agent.email):
            return reference, found.number
    return None


def authenticated(settings: AgentMailConfig, mail: Incoming) -> bool:
    """The topmost Authentication-Results header (ours) vouches for the sender's domain.

    Only the topmost counts: a sender can write any header, even one naming our
    authserv-id, and ours lands above it. A different authserv-id on top, an
    unparsable header or none at all count for nothing.
    """
    written = mail.headers.get("authentication-results", ())
    if not written:
        return False
    try:
        header = authres.AuthenticationResultsHeader.parse_value(written[0])
    except authres.AuthResError:
        return False
    if (header.authserv_id or "").lower() != settings.authserv_id.lower():
        return False
    domain = mail.from_addr.rpartition("@")[2].lower()
    return any(r.result.lower() == "pass" and _vouches(r, domain) for r in header.results)


def _vouches(result, domain: str) -> bool:
    """dkim for header.d = domain, or spf for smtp.mailfrom in domain."""
    wanted = {"dkim": ("header", "d"), "spf": ("smtp", "mailfrom")}.get(result.method.lower())
    if wanted is None:
        return False
    for prop in result.properties:
        if (prop.type.lower(), prop.name.lower()) == wanted:
            value = prop.value.lower()
            return value == domain or value.endswith(f"@{domain}")
    return False
