"""Priority, category and team for a new ticket: ordered rules, first match wins. Pure."""

from dataclasses import dataclass

from maildesk.config import Rule
from maildesk.mail.message import Incoming

DEFAULT_PRIORITY = "P2"


@dataclass(frozen=True)
class Classification:
    priority: str
    category: str | None
    team: str | None
    rule: str | None


def matches(rule: Rule, mail: Incoming) -> bool:
    """True when every condition the rule sets holds for this mail."""
    domain = mail.from_addr.rpartition("@")[2]
    checks = (
        rule.from_regex is None or bool(rule.from_regex.search(mail.from_addr)),
        not rule.sender_domains or domain in rule.sender_domains,
        rule.subject_regex is None or bool(rule.subject_regex.search(mail.subject)),
        rule.body_regex is None or bool(rule.body_regex.search(mail.text)),
        all(
            any(pattern.search(value) for value in mail.headers.get(name, ()))
            for name, pattern in rule.headers
        ),
    )
    return all(checks)


def classify_ticket(rules: tuple[Rule, ...], mail: Incoming) -> Classification:
    """The first matching rule's settings, else the default priority."""
    for rule in rules:
        if matches(rule, mail):
            return Classification(
                rule.priority or DEFAULT_PRIORITY, rule.category, rule.team, rule.name
            )
    return Classification(DEFAULT_PRIORITY, None, None, None)


# Automatic mail that continues no ticket gets one of its own, low and unrouted:
# rules describe what customers write, not what their autoresponders send.
AUTOMATIC = Classification("P3", None, None, None)
