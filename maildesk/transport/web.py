"""The survey's web page (aiohttp): a rating chosen in the mail, confirmed with a button.

Mail security scanners (Safe Links, Mimecast, Proofpoint) fetch every link
of a mail, so a link must not rate: `GET` (and `HEAD`) of
`/survey/<token>?score=N` only shows the form with N chosen; `POST
/survey/<token>` with `score` (1-5) and an optional `comment` keeps the
answer. Nothing a GET or HEAD does writes to the database or queues mail.
The token is signed for that survey of that ticket (survey/tokens.py); a
survey replaced by a newer one of the ticket, or a ticket no longer
resolved, takes no answer. The form posts to `web.public_url`, never to
what the request's Host header says. Database work runs in a thread, off
the event loop; every value put in the page is HTML-escaped.

The same listener, or one of its own, serves the monitor (`/metrics`,
`/healthz`, `/readyz`): what those say is the `Monitor`'s (views/health.py).
"""

import asyncio
import html
import logging
import threading
from typing import Any, Protocol

from aiohttp import web
from sqlalchemy.orm import Session

from maildesk.app import App
from maildesk.config.surveys import host_port
from maildesk.desk.notify import ticket_context
from maildesk.desk.survey import lifecycle
from maildesk.desk.survey.answers import Answer
from maildesk.store.db import transaction
from maildesk.store.deadline_tables import Survey
from maildesk.store.tables import Ticket

log = logging.getLogger(__name__)
SCORES = ("1", "2", "3", "4", "5")
COMMENT_LIMIT = 4000
_INVALID = (404, "This link is not valid. / 此链接无效。")
_CLOSED = (
    410,
    "This survey takes no more answers: the ticket was closed or reopened,"
    " or a newer survey was sent. Thank you. / 此回访已不再接受评价：工单已关闭或重新处理，"
    "或已发送新的回访。谢谢。",
)
_NO_SCORE = (400, "Please choose a rating from 1 to 5. / 请选择 1 到 5 分的评分。")
Page = tuple[int, str]


class Monitor(Protocol):
    """What the monitoring endpoints answer; each call may read the database."""

    def metrics(self) -> tuple[bytes, str]:
        """The Prometheus text and its content type."""
        ...

    def readiness(self) -> tuple[bool, str]:
        """Whether this worker is ready, and why not (one reason a line)."""
        ...


def application(app: App, survey: bool = True, monitor: Monitor | None = None) -> web.Application:
    """The survey page's routes (`survey`), the monitor's (with one), or both."""
    site = web.Application(client_max_size=64 * 1024)
    if survey:
        site.add_routes(_survey_routes(app))
    if monitor is not None:
        site.add_routes(_monitor_routes(monitor))
    return site


def _monitor_routes(monitor: Monitor) -> web.RouteTableDef:
    routes = web.RouteTableDef()

    @routes.get("/metrics")
    async def metrics(_request: web.Request) -> web.Response:
        body, content_type = await asyncio.to_thread(monitor.metrics)
        return web.Response(body=body, headers={"Content-Type": content_type})

    @routes.get("/healthz")  # alive and serving: this answer is the proof
    async def healthz(_request: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    @routes.get("/readyz")
    async def readyz(_request: web.Request) -> web.Response:
        ready, why = await asyncio.to_thread(monitor.readiness)
        return web.Response(status=200 if ready else 503, text=why + "\n")

    return routes


def _survey_routes(app: App) -> web.RouteTableDef:
    routes = web.RouteTableDef()

    @routes.get("/survey/{token}")  # HEAD too (aiohttp's allow_head)
    async def show(request: web.Request) -> web.Response:
        score = request.query.get("score", "")
        chosen = int(score) if score in SCORES else None
        token = request.match_info["token"]
        return _response(await asyncio.to_thread(_show, app, token, chosen))

    @routes.post("/survey/{token}")
    async def answer(request: web.Request) -> web.Response:
        form = await request.post()
        score, comment = form.get("score"), form.get("comment", "")
        rating = int(score) if isinstance(score, str) and score in SCORES else None
        text = comment.strip()[:COMMENT_LIMIT] if isinstance(comment, str) else ""
        token = request.match_info["token"]
        return _response(await asyncio.to_thread(_keep, app, token, rating, text))

    return routes


def _response(page: Page) -> web.Response:
    status, text = page
    return web.Response(status=status, text=text, content_type="text/html", charset="utf-8")


def _show(app: App, token: str, chosen: int | None) -> Page:
    """The form, `chosen` (else the rating kept) selected; a read-only transaction."""
    with transaction(app.sessions) as session:
        found = lifecycle.by_token(session, app.keys, token)
        if found is None:
            return _invalid()
        survey, ticket = found
        refused = _refusal(session, survey, ticket)
        if refused is not None:
            return refused
        context = _escaped(ticket_context(app.desk(), ticket)) | {
            "rating": chosen or survey.rating,
            "action_url": html.escape(_page_url(app, token)),
        }
        return _render(app, "survey_confirm", ticket.locale, context, 200)


def _keep(app: App, token: str, rating: int | None, comment: str) -> Page:
    """Record the confirmed rating (and comment), and the thanks page."""
    with transaction(app.sessions, write=True) as session:
        found = lifecycle.by_token(session, app.keys, token, lock=True)
        if found is None:
            return _invalid()
        survey, ticket = found
        refused = _refusal(session, survey, ticket)
        if refused is not None:
            return refused
        if rating is None:
            back = f'<p><a href="{html.escape(_page_url(app, token))}">&larr;</a></p>'
            return _NO_SCORE[0], _page("maildesk", f"<p>{_NO_SCORE[1]}</p>{back}", ticket.locale)
        answer = Answer(rating, True, comment)
        lifecycle.record(session, app.desk(), ticket, survey, answer, app.clock())
        context = _escaped(ticket_context(app.desk(), ticket)) | {
            "rating": survey.rating,
            "page_url": html.escape(_page_url(app, token)),
        }
        return _render(app, "survey_thanks", ticket.locale, context, 200)


def _invalid() -> Page:
    """The page for a forged or stale token (404)."""
    return _INVALID[0], _page("maildesk", f"<p>{_INVALID[1]}</p>", "en")


def _refusal(session: Session, survey: Survey, ticket: Ticket) -> Page | None:
    """The page for a survey that may no longer answer (410)."""
    if not lifecycle.takes_answers(session, survey, ticket):
        return _CLOSED[0], _page("maildesk", f"<p>{_CLOSED[1]}</p>", ticket.locale)
    return None


def _page_url(app: App, token: str) -> str:
    """The survey page of `token` at the configured public address (set when listen is)."""
    return f"{app.config.web.public_url}/survey/{token}"


def _render(app: App, name: str, locale: str, context: dict[str, Any], status: int) -> Page:
    rendered = app.templates.render(name, locale, context)
    return status, _page(rendered.subject, rendered.text, locale)


def _escaped(value: Any) -> Any:
    if isinstance(value, str):
        return html.escape(value)
    if isinstance(value, dict):
        return {k: _escaped(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_escaped(v) for v in value]
    return value


def _page(title: str, body: str, locale: str) -> str:
    return (
        f'<!doctype html>\n<html lang="{html.escape(locale)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;max-width:40em;margin:2em auto;padding:0 1em}</style>"
        f"</head><body>\n{body}\n</body></html>\n"
    )


class WebServer:
    """A listener on its own event loop, served by `serve` in the thread that calls it (the
    daemon's, which starts it again should it die): the survey page on `[web] listen`
    by default; `listen`, `survey` and `monitor` choose another address and routes."""

    def __init__(
        self,
        app: App,
        listen: str | None = None,
        survey: bool = True,
        monitor: Monitor | None = None,
    ) -> None:
        self.app = app
        self.listen = listen or app.config.web.listen or ""
        self.survey = survey
        self.monitor = monitor
        self.tried = threading.Event()  # the first try to listen is over, opened or not
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False
        self._lock = threading.Lock()

    def serve(self) -> None:
        """Listen and answer until `stop`; raises OSError when the port cannot be had."""
        host, port = host_port(self.listen)
        loop = asyncio.new_event_loop()
        site = application(self.app, self.survey, self.monitor)
        runner = web.AppRunner(site, access_log=None)
        try:
            loop.run_until_complete(runner.setup())
            loop.run_until_complete(web.TCPSite(runner, host, port).start())
            log.info("%s on http://%s:%s", self.name, host, port)
            with self._lock:
                if self._stopping:
                    return
                self._loop = loop
            self.tried.set()
            loop.run_forever()
        finally:
            self.tried.set()
            with self._lock:
                self._loop = None
            loop.run_until_complete(runner.cleanup())
            loop.close()

    @property
    def name(self) -> str:
        """What it serves, for the log and its thread."""
        parts = (["survey page"] if self.survey else []) + (["monitor"] if self.monitor else [])
        return " and ".join(parts)

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
            if self._loop is not None:
                self._loop.call_soon_threadsafe(self._loop.stop)
