"""Proof that a mail from an agent's address is that agent's reply (From alone proves nothing).

Proven only if the sender is a configured agent, the mail references a
Message-ID we issued to that agent for the ticket (its HMAC checks with our
secret: another agent's notification, another instance's id or a typed tag
do not), and, when `[agent_mail] require_authentication_results` is set, the
Authentication-Results header our own receiving server added
(`authserv_id`) shows dkim=pass or spf=pass for the agent's domain.
"""

from dataclasses import dataclass

import authres

from maildesk.config import AgentConfig, AgentMailConfig
from maildesk.mail import ids
from maildesk.mail.message import Incoming


@dataclass(frozen=True)
class Verdict:
    """The ticket the reply is about (if one of our ids names it); why it fails, if it does."""

    number: int | None
    refusal: str | None = None


def check(settings: AgentMailConfig, secret: str, agent: AgentConfig, mail: Incoming) -> Verdict:
    tag = ids.recipient_tag(secret, agent.email)
    named: int | None = None
    for reference in (*mail.in_reply_to, *reversed(mail.references)):
        found = ids.signed(secret, reference)
        if found is None:
            continue
        if found.recipient == tag:
            named = found.number
            break
        named = named or found.number
    else:
        why = "it answers no mail of ours to this agent (a forged or retyped reference)"
        return Verdict(named, why)
    if settings.require_authentication_results and not authenticated(settings, mail):
        domain = mail.from_addr.rpartition("@")[2]
        return Verdict(
            named,
            f"Authentication-Results of {settings.authserv_id} show no "
            f"dkim=pass or spf=pass for {domain}",
        )
    return Verdict(named)


def authenticated(settings: AgentMailConfig, mail: Incoming) -> bool:
    """Our own server's Authentication-Results vouch for the sender's domain.

    Headers of other servers (or one the sender wrote, which ours would add
    below) name another authserv-id and are ignored; an unparsable header
    counts for nothing.
    """
    domain = mail.from_addr.rpartition("@")[2].lower()
    for value in mail.headers.get("authentication-results", ()):
        try:
            header = authres.AuthenticationResultsHeader.parse_value(value)
        except authres.AuthResError:
            continue
        if (header.authserv_id or "").lower() != settings.authserv_id.lower():
            continue
        for result in header.results:
            if result.result.lower() == "pass" and _vouches(result, domain):
                return True
    return False


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
