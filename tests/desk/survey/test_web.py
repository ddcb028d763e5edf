"""The survey page over real HTTP (aiohttp on loopback): one click rates, the form adds a
comment, a tampered or foreign token is refused, a closed ticket takes no more."""

import urllib.error
import urllib.parse
import urllib.request

import pytest

from maildesk.desk.survey import tokens
from maildesk.transport.web import WebServer
from tests.conftest import free_port
from tests.desk.sla.desk import agent_does, sla_desk
from tests.desk.survey.test_surveys import mails, rating, resolved_ticket, run


@pytest.fixture
def site(make_app, clock):
    """A desk with the page on, ticket 1 resolved and its survey sent; yields (app, links)."""
    port = free_port()
    app = sla_desk(make_app, f'[web]\nlisten = "127.0.0.1:{port}"\n')
    resolved_ticket(app, clock, subject="<script>alert(1)</script> printer")
    clock.advance(days=1)
    run(app)
    ((mail, _to),) = mails(app, "survey")
    links = [w for w in mail.get_content().split() if w.startswith("http://")]
    server = WebServer(app)
    server.start()
    yield app, links
    server.stop()


def fetch(url: str, form: dict | None = None) -> tuple[int, str]:
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    try:
        with urllib.request.urlopen(url, data=data, timeout=10) as response:  # noqa: S310
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_one_click_rates_and_the_form_adds_a_comment(site):
    app, links = site
    status, page = fetch(links[0])  # score=5
    assert status == 200 and "You rated our help on [Ticket#1] with 5 of 5." in page
    assert rating(app, 1)[0] == 5
    assert "<script>alert" not in page, "nothing of the customer's is unescaped"

    status, page = fetch(links[3])  # score=2: changed, and the lead hears of it
    assert status == 200 and rating(app, 1)[0] == 2
    assert [to for _m, to in mails(app, "escalation")] == [["boss@desk.example"]]
    base = links[0].split("?")[0]
    status, _page = fetch(base, {"comment": "the second visit fixed it"})
    assert status == 200 and rating(app, 1) == (2, True, "the second visit fixed it")


def test_a_tampered_or_foreign_token_is_refused(site, clock):
    app, links = site
    base, _, query = links[0].partition("?")
    token = base.rsplit("/", 1)[1]
    survey_id, number, mac = token.split(".")
    forged = base.replace(token, f"{survey_id}.2.{mac}")  # the same mac, another ticket
    assert fetch(f"{forged}?{query}")[0] == 404
    assert fetch(base[:-3] + "xyz?score=5")[0] == 404
    other = tokens.make("another-instance-secret", int(survey_id), int(number))
    assert fetch(base.replace(token, other) + "?score=5")[0] == 404
    assert rating(app, 1)[0] is None, "no forged link rated anything"


def test_a_closed_ticket_takes_no_more_ratings(site):
    app, links = site
    agent_does(app, 1, "#close")
    status, page = fetch(links[0])
    assert status == 410 and "closed" in page
    assert rating(app, 1)[0] is None
