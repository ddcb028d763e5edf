"""Priority rules: ordered, first match wins, every condition of a rule must hold."""

from maildesk.config import parse
from maildesk.desk.rules import classify_ticket
from maildesk.mail.message import parse as parse_mail
from tests.conftest import make_mail

RULES = parse(
    {
        "desk": {"name": "D"},
        "database": {"url": "sqlite://"},
        "rules": [
            {
                "name": "outage",
                "subject_regex": "(?i)(outage|宕机)",
                "priority": "P0",
                "category": "outage",
            },
            {"name": "vip", "sender_domain": ["vip.example"], "priority": "P1", "team": "key"},
            {
                "name": "both",
                "from_regex": "^boss@",
                "body_regex": "(?i)invoice",
                "priority": "P3",
            },
            {"name": "header", "priority": "P1", "headers": {"X-Priority": "^1"}},
        ],
    }
).rules


def decide(**kwargs):
    return classify_ticket(RULES, parse_mail(make_mail(**kwargs).as_bytes()))


def test_first_match_wins_and_sets_category_and_team():
    found = decide(sender="a@vip.example", subject="Outage!")
    assert (found.priority, found.category, found.team, found.rule) == (
        "P0",
        "outage",
        None,
        "outage",
    )
    assert decide(sender="a@vip.example").team == "key"


def test_chinese_subject_and_header_rules():
    assert decide(subject="系统宕机").priority == "P0"
    assert decide(X_Priority="1 (Highest)").priority == "P1"


def test_all_conditions_of_a_rule_must_match():
    assert decide(sender="boss@x.example", body="about the invoice").priority == "P3"
    assert decide(sender="boss@x.example", body="hello").priority == "P2"


def test_default_is_p2():
    found = decide(subject="a question")
    assert (found.priority, found.rule) == ("P2", None)
