"""The survey page over real HTTP (aiohttp on loopback): a link only shows the rating it
chose, the form's POST records it; odd, forged, closed and superseded tokens change
nothing; the form posts to web.public_url whatever the Host header says."""

import http.client
import re
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import func, select

from maildesk.desk.survey import tokens
from maildesk.mail.keys import Keys
from maildesk.store import db
from maildesk.store.deadline_tables import SlaEvent, Survey
from maildesk.store.tables import Event, Message, OutboxMail
from maildesk.transport.web import WebServer
from tests.conftest import free_port
from tests.desk.sla.desk import SLA, agent_does, customer_writes
from tests.desk.survey.test_surveys import mails, rating, resolved_ticket, run
from tests.desk.test_notice_limits import BOSS, staff_mails
from tests.support import desk_toml

PUBLIC = "https://desk.example/help"


@pytest.fixture
def site(make_app, smtp_sink, clock):
    """A desk with the page on, ticket 1 resolved and its survey sent; yields (app, port,
    the paths of the survey's five links, 5 first)."""
    port = free_port()
    web = f'[web]\nlisten = "127.0.0.1:{port}"\npublic_url = "{PUBLIC}"\n'
    app = make_app(None, smtp_sink, extra=desk_toml() + SLA.format(keys="") + web)
    resolved_ticket(app, clock, subject="<script>alert(1)</script> printer")
    clock.advance(days=1)
    run(app)
    with serving(app):
        yield app, port, survey_links(app)[-1]


@contextmanager
def serving(app) -> Iterator[None]:
    """The app's survey page on its `[web] listen`, for the block."""
    server = WebServer(app)
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    server.tried.wait(10)
    try:
        yield
    finally:
        server.stop()
        thread.join(10)


def survey_links(app) -> list[list[str]]:
    """The local paths of each survey mail's links, oldest mail first."""
    found = []
    for mail, _to in mails(app, "survey"):
        urls = [w for w in mail.get_content().split() if w.startswith(PUBLIC)]
        found.append([url.removeprefix(PUBLIC) for url in urls])
    return found


def request(
    port: int, method: str, path: str, form: dict | None = None, host: str | None = None
) -> tuple[int, str]:
    """One HTTP request as a browser or a scanner sends it; the path goes out as given."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    body = urllib.parse.urlencode(form).encode() if form is not None else None
    headers = {"Host": host or f"127.0.0.1:{port}"}
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def footprint(app) -> tuple:
    """Everything a request could have written: row counts and the survey rows."""
    with db.transaction(app.sessions) as session:
        counts = tuple(
            session.scalar(select(func.count()).select_from(model))
            for model in (Event, Message, OutboxMail, SlaEvent)
        )
        rows = session.execute(select(Survey).order_by(Survey.id)).scalars().all()
        return counts, [
            (s.state, s.rating, s.comment, s.answered_at, s.leads_told_at) for s in rows
        ]


def checked(page: str) -> list[str]:
    return re.findall(r'value="(\d)" required checked', page)


def test_a_link_only_shows_its_rating_and_the_button_records_it(site):
    app, port, links = site
    before = footprint(app)
    for n, path in zip((5, 4, 3, 2, 1), links, strict=True):
        for method in ("GET", "HEAD"):  # what a mail scanner does to every link
            status, page = request(port, method, path)
            assert status == 200
            assert page == "" or checked(page) == [str(n)], "the link's rating is chosen"
    assert footprint(app) == before, "no GET or HEAD wrote anything or queued mail"
    assert rating(app, 1)[0] is None and mails(app, "escalation") == []

    status, page = request(port, "GET", links[1])
    assert "Send my rating" in page and "<script>alert" not in page
    token_path = links[1].split("?")[0]
    assert f'action="{PUBLIC}{token_path}"' in page
    status, page = request(port, "POST", token_path, {"score": "4", "comment": "quick fix"})
    assert status == 200 and "You rated our help on [Ticket#1] with 4 of 5." in page
    assert f'href="{PUBLIC}{token_path}"' in page, "where the rating can be changed"
    assert rating(app, 1) == (4, True, "quick fix")
    assert checked(request(port, "GET", token_path)[1]) == ["4"], "no score: the one kept"


def test_the_form_posts_to_the_public_url_whatever_the_host_header_says(site):
    _app, port, links = site
    status, page = request(port, "GET", links[0], host="evil.example")
    assert status == 200
    assert re.findall(r'action="([^"]*)"', page) == [PUBLIC + links[0].split("?")[0]]
    assert "evil.example" not in page and "127.0.0.1" not in page


@pytest.mark.parametrize(
    "path",
    [
        "/survey/%E2%9C%93",
        "/survey/1.2",
        "/survey/" + "a" * 5000,
        "/survey/..",
        "/survey/%2E%2E",
        "/survey/%FF%FE",
        "/survey/1.1.%E2%9C%93%E2%9C%93%E2%9C%93%E2%9C%93%E2%9C%93%E2%9C%93%E2%9C%93%E2%9C%93",
        "/survey/99999999999999999999.1.AAAAAAAAAAAAAAAAAAAAAAAA",
        "/survey/%D9%A1.%D9%A1.AAAAAAAAAAAAAAAAAAAAAAAA",  # Arabic-Indic digits
    ],
)
def test_an_odd_token_is_a_404_never_a_500(site, path):
    app, port, _links = site
    before = footprint(app)
    for method, form in (("GET", None), ("HEAD", None), ("POST", {"score": "1"})):
        assert request(port, method, path + ("?score=1" if form is None else ""), form)[0] == 404
    assert footprint(app) == before


def test_a_tampered_or_foreign_token_is_refused(site):
    app, port, links = site
    path = links[4].split("?")[0]
    token = path.rsplit("/", 1)[1]
    survey_id, number, mac = token.split(".")
    other = tokens.make(Keys(("another-instance-secret",)), int(survey_id), int(number))
    for forged in (f"{survey_id}.2.{mac}", token[:-3] + "xyz", other):
        assert request(port, "POST", f"/survey/{forged}", {"score": "1"})[0] == 404
    assert rating(app, 1)[0] is None, "no forged link rated anything"


def test_a_post_needs_the_token_and_a_score_from_1_to_5(site):
    app, port, links = site
    path = links[0].split("?")[0]
    before = footprint(app)
    for form in ({}, {"score": "0"}, {"score": "6"}, {"score": "five"}, {"comment": "hi"}):
        status, page = request(port, "POST", path, form)
        assert status == 400 and "Please choose a rating from 1 to 5." in page
    assert request(port, "POST", "/survey/", {"score": "5"})[0] == 404
    assert request(port, "POST", "/survey", {"score": "5"})[0] == 404
    assert footprint(app) == before


def test_a_closed_ticket_takes_no_more_ratings(site):
    app, port, links = site
    agent_does(app, 1, "#close")
    before = footprint(app)
    assert request(port, "GET", links[0])[0] == 410
    status, page = request(port, "POST", links[0].split("?")[0], {"score": "5"})
    assert status == 410 and "takes no more answers" in page
    assert footprint(app) == before and rating(app, 1)[0] is None


def test_a_superseded_survey_takes_no_answer(site, clock):
    app, port, old_links = site
    customer_writes(app, subject="Re: [Ticket#1] printer", body="It jams again.", at=clock.now)
    agent_does(app, 1, "#resolve new rollers")  # a second resolution: a newer survey
    before = footprint(app)
    old = old_links[0].split("?")[0]
    assert request(port, "GET", old_links[0])[0] == 410
    assert request(port, "POST", old, {"score": "1"})[0] == 410
    assert footprint(app) == before, "nothing recorded by the old survey's link"

    clock.advance(days=1)
    run(app)  # the cooldown of 30 days holds back a second survey mail to the same customer
    assert survey_links(app) == [old_links]
    assert request(port, "POST", old, {"score": "1"})[0] == 410


def test_a_low_score_tells_the_lead_once_per_survey(site, smtp_sink, clock):
    app, port, links = site
    staff_mails(app, smtp_sink)  # the notices of the ticket so far
    path = links[0].split("?")[0]
    for score in ("5", "1", "2", "1"):  # high, then low, then changed back and forth
        assert request(port, "POST", path, {"score": score})[0] == 200
    customer_writes(app, subject="Re: [Ticket#1] How did we do?", body="1 bad", at=clock.now)

    assert rating(app, 1)[0] == 1
    ((to, subject),) = staff_mails(app, smtp_sink)
    assert to == [BOSS] and subject.startswith("[Ticket#1] Escalated to you")
