"""What each template is given: its variables, one line each, with a sample value.

Declared once, here, for `templates check` (a variable not declared is a typo),
`templates vars` (what an admin may write) and `templates preview` (the
sample context when there is no ticket). Every mail on a ticket starts from
notify.ticket_context, declared once as TICKET; mail to an agent adds
`agent_name` (AGENT).
"""

import copy
from dataclasses import dataclass
from typing import Any

from maildesk.desk.commands import HELP, HELP_LINE
from maildesk.errors import TemplateError
from maildesk.mail.quotes import REPLY_MARKER


class UnknownTemplate(TemplateError):
    """A name that is not one of the templates maildesk renders: a usage error."""

    exit_code = 2


@dataclass(frozen=True)
class Var:
    description: str
    sample: Any


@dataclass(frozen=True)
class Declared:
    """One template: when it is sent, and what it is given."""

    about: str
    variables: dict[str, Var]
    on_ticket: bool = True  # a mail on a ticket: notify puts the tag back into its subject


SAMPLE_NUMBER = 1042
TICKET = {
    "desk_name": Var("the desk's name ([desk] name)", "Example Support"),
    "tag": Var("the ticket's subject tag ([desk] subject_tag)", f"[Ticket#{SAMPLE_NUMBER}]"),
    "reply_marker": Var("the line above which a reply is read as new text", REPLY_MARKER),
    "customer_name": Var("the customer's name as they wrote it, else their address", "Ann Lee"),
    "ticket": Var(
        "the ticket: number, subject, status, priority, category, team, assignee, customer",
        {
            "number": SAMPLE_NUMBER,
            "subject": "The printer is on fire",
            "status": "open",
            "priority": "P2",
            "category": "hardware",
            "team": "support",
            "assignee": "lin@desk.example",
            "customer": "ann@customer.example",
        },
    ),
}
AGENT = {
    "agent_name": Var("the agent's name (the address, for people who are not agents)", "Lin Wei")
}
_SUGGESTED = {
    "number": 7,
    "slug": "printer-offline",
    "title": "The printer shows as offline",
    "text": "Switch the printer off and on, then add it again under Settings > Printers.",
}
_ACK = {
    "response_target": Var("the first-response target in words", "2 working hours"),
    "rejected_attachments": Var("names of the files over the size limit, not kept", []),
    "suggestions": Var(
        "published articles matching the customer's words, in their language (3 at most,"
        " none below kb.min_score): number, slug, title, text; a reply 'solved' /"
        " '已解决' resolves the ticket",
        [_SUGGESTED],
    ),
}
_ARTICLE = {k: v for k, v in _SUGGESTED.items() if k != "text"}
_DUE = "2026-11-23 14:00 CST"
_SURVEY_URL = "https://desk.example/survey/abc"


def _ticket(**extra: Var) -> dict[str, Var]:
    return TICKET | extra


def _agent(**extra: Var) -> dict[str, Var]:
    return TICKET | AGENT | extra


def _listed(subject: str, **more: Any) -> dict[str, Any]:
    """A ticket as the digest lists it."""
    plain = {"due": "2026-11-23 14:00", "tag": TICKET["tag"].sample, "priority": "P2"}
    return plain | {"status": "open", "subject": subject} | more


DECLARED: dict[str, Declared] = {
    "ack": Declared(
        "to the customer: their request is received",
        _ticket(**_ACK, work_starts=Var("always empty here (see ack_out_of_hours)", "")),
    ),
    "ack_out_of_hours": Declared(
        "to the customer: received outside working hours",
        _ticket(
            **_ACK,
            work_starts=Var("when work starts, in words", "Monday 23 November 2026, 09:00 (CST)"),
        ),
    ),
    "status_update": Declared(
        "to the customer: resolved, pending, closed or reopened",
        _ticket(
            status=Var("resolved, pending, closed or reopened", "resolved"),
            summary=Var("the resolution as the agent wrote it, or empty", "Replaced the fuser."),
        ),
    ),
    "merged": Declared(
        "to the customer: the request goes on under another ticket",
        _ticket(
            new_tag=Var("the tag of the ticket it goes on under", "[Ticket#1040]"),
            summary=Var("the resolution as the agent wrote it, or empty", ""),
        ),
    ),
    "agent_notification": Declared(
        "to an agent: a new ticket, or a customer's new message",
        _agent(
            is_new=Var("true for a new ticket", True),
            unrouted=Var("true when told as a lead because nobody else would be", False),
            new_text=Var("what the customer wrote, without the quoted part", "It smokes."),
            customer_address=Var("the address the mail came from", "ann@customer.example"),
            attachments=Var("the files' names; those left out are marked", ["photo.jpg"]),
            earlier=Var(
                "the customer's other tickets, newest first: number, subject, status",
                [{"number": 1001, "subject": "Toner", "status": "closed"}],
            ),
            uncopied_cc=Var(
                "the mail's Cc's not copied on answers: it does not answer our mail to the"
                " customer (a reply to our acknowledgement or answer does)",
                ["carol@customer.example"],
            ),
            due_first_response=Var("first response due, desk time (or empty)", _DUE),
            due_resolution=Var("resolution due, desk time (or empty)", "2026-11-25 10:00 CST"),
            command_help=Var("one line naming the reply commands", HELP_LINE),
            articles=Var(
                "published articles matching the customer's mail, best first: number,"
                " slug, title, score (0..1); `#answer N` sends one",
                [_ARTICLE | {"score": 0.42}],
            ),
        ),
    ),
    "kb_draft": Declared(
        "to a lead: an agent saved an answer as a draft article (#kb)",
        _agent(
            article=Var("the draft: number, slug, title, text", _SUGGESTED),
            author=Var("who saved it", "lin@desk.example"),
        ),
    ),
    "agent_refused": Declared(
        "to an agent: mail from their address was not proven theirs",
        _agent(reason=Var("why the mail was not applied", "not a reply to our mail")),
    ),
    "agent_command_error": Declared(
        "to an agent: their reply's commands were not applied",
        _agent(
            help=Var("the list of reply commands", HELP),
            line=Var("the line that failed", "#priority P9"),
            reason=Var("why, in English", "priority must be P0..P3"),
            reason_zh=Var("why, in Chinese", "优先级必须是 P0..P3"),
        ),
    ),
    "answer_not_sent": Declared(
        "to an agent: their answer did not go to the customer",
        _agent(
            reason=Var(
                "why, in English",
                "no address to send to",
            )
        ),
    ),
    "command_help": Declared(
        "to an agent: the answer to #help",
        _agent(help=Var("the list of reply commands", HELP)),
    ),
    "escalated": Declared(
        "to a lead: the ticket was escalated to them",
        _agent(
            actor=Var("who escalated it", "ann@customer.example"),
            reason=Var("the reason given, or empty", "we are losing money"),
        ),
    ),
    "escalation": Declared(
        "to the ladder's people: an SLA warning or breach",
        _agent(
            level=Var("the ladder level's name", "breach"),
            share=Var("the share of the target used, in %", 100),
            warning=Var("true for a warning before the due time", False),
            late=Var("true when sent late (the desk was not running)", False),
            clock=Var("the clock: first_response, resolution, review, ...", "first_response"),
            clock_name=Var("the clock in English words", "first response"),
            clock_name_zh=Var("the clock in Chinese", "首次响应"),
            due=Var("the due time, desk time", _DUE),
            overdue_minutes=Var("minutes past the due time", 30),
            left_minutes=Var("minutes left before the due time", 0),
            raise_priority=Var("true when this level raises the priority", False),
            reassign_team=Var("the team this level moves the ticket to, or empty", ""),
        ),
    ),
    "held_notices": Declared(
        "to an agent: one sender's notices past the hourly cap, told in one",
        _agent(
            sender=Var("the address that wrote them", "ann@customer.example"),
            count=Var("how many notices were held", 190),
            since=Var("when the first was held, desk time", _DUE),
            cap=Var("agent_mail.max_notices_per_sender_per_hour", 10),
            tickets=Var("the numbers of the tickets they were on (the first 20)", [1042, 1043]),
            more_tickets=Var("true when they were on more tickets than listed", False),
        ),
    ),
    "digest": Declared(
        "to an agent, daily: their open tickets and yesterday's breaches",
        {
            "desk_name": TICKET["desk_name"],
            **AGENT,
            "day": Var("the date, desk time", "2026-11-23"),
            "tickets": Var(
                "open tickets: due, tag, priority, status, subject, overdue",
                [_listed("The printer is on fire", overdue=False)],
            ),
            "breaches": Var(
                "yesterday's breaches: due, tag, priority, status, subject, clock_names (en, zh)",
                [_listed("Toner", clock_names=("resolution", "解决"))],
            ),
        },
        on_ticket=False,
    ),
    "survey": Declared(
        "to the customer: how did we do?",
        _ticket(
            rating_links=Var(
                "one link per score, 5 first: score, url",
                [{"score": n, "url": f"{_SURVEY_URL}?r={n}"} for n in range(5, 0, -1)],
            ),
            reply_hint=Var("the scores a reply may give", "5 / 4 / 3 / 2 / 1"),
            window_days=Var("days until the resolved ticket closes", 7),
        ),
    ),
    "survey_confirm": Declared(
        "the web page a survey link opens: the rating to confirm (HTML; the subject is its title)",
        _ticket(
            rating=Var("the score the link chose (else the one kept), or empty", 5),
            action_url=Var("where the form posts: web.public_url and the token", _SURVEY_URL),
        ),
        on_ticket=False,
    ),
    "survey_thanks": Declared(
        "the web page after a rating is sent (HTML; the subject is its title)",
        _ticket(
            rating=Var("the score given, or empty", 5),
            page_url=Var("the survey page, where the rating can be changed", _SURVEY_URL),
        ),
        on_ticket=False,
    ),
    "auto_close": Declared(
        "to the customer: the resolved ticket closed unanswered",
        _ticket(window_days=Var("days after the resolution it closed", 7)),
    ),
}


def declared(name: str) -> Declared:
    found = DECLARED.get(name)
    if found is None:
        raise UnknownTemplate(f"no template {name!r} (known: {', '.join(sorted(DECLARED))})")
    return found


def samples(name: str) -> dict[str, Any]:
    """The sample context of template `name`, a copy the caller may change."""
    return {key: copy.deepcopy(var.sample) for key, var in declared(name).variables.items()}


def all_samples() -> dict[str, dict[str, Any]]:
    return {name: samples(name) for name in DECLARED}
