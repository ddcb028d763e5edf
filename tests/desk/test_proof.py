"""proof.py's own reading: which Authentication-Results vouch for the agent's domain, and
where in the references the proof is looked for.

tests/desk/test_proof_checks.py and test_proof_leaks.py pin the checks of a reply end to
end (replays, age, merged tickets, the topmost header, ids bound to someone else);
test_agent_reply.py the plain dkim and spf passes and forged references.
"""

import pytest

from maildesk.config import AgentMailConfig
from maildesk.desk import proof
from maildesk.mail.message import parse
from tests.desk import test_agent_reply as agent_tests
from tests.desk.test_agent_reply import answers, reply
from tests.support import cycle, show

desk = agent_tests.desk  # the fixture: ticket 1 open, Lin's notification in hand
OURS = AgentMailConfig(require_authentication_results=True, authserv_id="mx.desk.example")


@pytest.mark.parametrize(
    ("results", "vouches"),
    [
        ("MX.Desk.Example; dkim=pass header.d=DESK.example", True),
        ("mx.desk.example; spf=pass smtp.mailfrom=desk.example", True),
        (
            "mx.desk.example; dkim=fail header.d=desk.example;"
            " spf=pass smtp.mailfrom=desk.example",
            True,
        ),
        ("mx.desk.example; dkim=pass header.d=mail.desk.example", False),
        ("mx.desk.example; spf=pass smtp.mailfrom=lin@evil-desk.example", False),
        ("mx.desk.example; dmarc=pass header.from=desk.example", False),
        ("mx.desk.example; dkim=pass header.i=@desk.example", False),
        ("; ; dkim=pass", False),
    ],
    ids=[
        "any-case",
        "spf-domain",
        "one-pass-of-two",
        "subdomain-signature",
        "lookalike-domain",
        "dmarc-alone",
        "no-header-d",
        "unparsable",
    ],
)
def test_a_pass_counts_only_for_the_agents_own_domain(results, vouches):
    mail = parse(
        f"Authentication-Results: {results}\r\nFrom: Lin <lin@desk.example>\r\n"
        "Subject: Re: [Ticket#1] printer\r\n\r\n#priority P1\r\n".encode()
    )
    assert proof.authenticated(OURS, mail) is vouches


def test_a_proof_in_the_references_counts_when_in_reply_to_names_another_mail(
    desk, mailbox, smtp_sink
):
    """Lin answers Ann's mail in her client's thread view: In-Reply-To is Ann's
    Message-ID, and the notification to Lin is further up the References."""
    app, notice = desk()
    (anns,) = [m["message_id"] for m in show(app, 1)["messages"] if m["direction"] == "in"]
    refs = f"{notice['Message-ID']} {anns}"
    mailbox.deliver(reply(notice, "#priority P1\n\nOn it.", In_Reply_To=anns, References=refs))
    cycle(app)
    assert show(app, 1)["priority"] == "P1" and len(answers(smtp_sink)) == 1
