"""The survey end to end over Dovecot and aiosmtpd: resolved by the agent's reply, the
survey at the customer's server, their "5" back through IMAP."""

import asyncio

from maildesk.transport import outbox
from tests.conftest import make_mail
from tests.desk.sla.desk import SLA
from tests.desk.survey.test_surveys import rating, run
from tests.desk.test_agent_reply import reply
from tests.support import cycle, desk_toml, show


def test_the_customer_rates_by_replying_to_the_survey(mailbox, smtp_sink, make_app, clock):
    app = make_app(mailbox, smtp_sink, extra=desk_toml() + SLA.format(keys=""))
    mailbox.deliver(make_mail(sender="Ann <ann@customer.example>", subject="printer"))
    cycle(app)
    (notice,) = [m for m in smtp_sink.messages if m["To"] == "lin@desk.example"]
    mailbox.deliver(reply(notice, "#resolve new toner\n\nThe new toner is in."))
    cycle(app)
    clock.advance(days=1)
    run(app)
    asyncio.run(outbox.drain(app))

    (survey,) = [m for m in smtp_sink.messages if "How did we do?" in m["Subject"]]
    assert survey["To"] == "ann@customer.example"
    answer = make_mail(
        sender="Ann <ann@customer.example>",
        subject=f"Re: {survey['Subject']}",
        body="5 great, thank you\n\n> How satisfied are you with our help?",
        In_Reply_To=survey["Message-ID"],
        References=survey["Message-ID"],
    )
    mailbox.deliver(answer)
    cycle(app)

    assert rating(app, 1) == (5, True, "great, thank you")
    assert show(app, 1)["status"] == "resolved"
