"""The survey's web page (aiohttp): one-click ratings and a comment box, no login.

`GET /survey/<token>?score=N` keeps the rating and thanks the customer in
their language; `POST /survey/<token>` adds their comment. The token is
signed for that survey of that ticket (survey/tokens.py); the rating can
change until the ticket closes. Database work runs in a thread, off the
event loop. Every value put in the page is HTML-escaped.
"""

import asyncio
import html
import logging
import threading
from typing import Any

from aiohttp import web

from maildesk.app import App
from maildesk.desk.notify import ticket_context
from maildesk.desk.survey import lifecycle
from maildesk.desk.survey.answers import Answer
from maildesk.store.db import transaction
from maildesk.store.tables import Status

log = logging.getLogger(__name__)
_INVALID = (404, "This link is not valid. / 此链接无效。")
_CLOSED = (410, "This ticket is closed; thank you. / 此工单已关闭，谢谢。")


def application(app: App) -> web.Application:
    routes = web.RouteTableDef()

    @routes.get("/survey/{token}")
    async def rate(request: web.Request) -> web.Response:
        score = request.query.get("score", "")
        rating = int(score) if score in ("1", "2", "3", "4", "5") else None
        return await _answer(app, request, rating, "")

    @routes.post("/survey/{token}")
    async def comment(request: web.Request) -> web.Response:
        form = await request.post()
        return await _answer(app, request, None, str(form.get("comment", "")).strip()[:4000])

    site = web.Application(client_max_size=64 * 1024)
    site.add_routes(routes)
    return site


async def _answer(app: App, request: web.Request, rating: int | None, comment: str):
    token = request.match_info["token"]
    status, page = await asyncio.to_thread(_keep, app, token, rating, comment, str(request.url))
    return web.Response(status=status, text=page, content_type="text/html", charset="utf-8")


def _keep(app: App, token: str, rating: int | None, comment: str, url: str) -> tuple[int, str]:
    """Record what the link or form says, and the page to show: (HTTP status, HTML)."""
    with transaction(app.sessions, write=True) as session:
        found = lifecycle.by_token(session, app, token)
        if found is None:
            return _INVALID[0], _page("maildesk", f"<p>{_INVALID[1]}</p>", "en")
        survey, ticket = found
        if ticket.status != Status.RESOLVED:
            return _CLOSED[0], _page("maildesk", f"<p>{_CLOSED[1]}</p>", ticket.locale)
        if rating is not None or comment:
            answer = Answer(rating, True, comment)
            lifecycle.record(session, app, ticket, survey, answer, app.clock())
        context = _escaped(ticket_context(app, ticket)) | {
            "rating": survey.rating,
            "comment_url": html.escape(url.split("?")[0]),
        }
        rendered = app.templates.render("survey_thanks", ticket.locale, context)
        return 200, _page(rendered.subject, rendered.text, ticket.locale)


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
    """The page in a thread of its own with its own event loop, started and stopped
    with the daemon; nothing runs unless `[web] listen` is set."""

    def __init__(self, app: App) -> None:
        self.app = app
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="maildesk-web", daemon=True)

    def start(self) -> None:
        self._thread.start()
        self._ready.wait(10)

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _serve(self) -> None:
        host, port = self.app.config.web.host_port
        self._loop = asyncio.new_event_loop()
        runner = web.AppRunner(application(self.app), access_log=None)
        self._loop.run_until_complete(runner.setup())
        self._loop.run_until_complete(web.TCPSite(runner, host, port).start())
        log.info("survey page on http://%s:%s", host, port)
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            self._loop.run_until_complete(runner.cleanup())
            self._loop.close()
