"""The checks of `doctor` that need no mail server: secrets, database, templates,
agents and teams, calendars, the web listener."""

import errno
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from maildesk.app import desk_keys
from maildesk.config import Config, Secret
from maildesk.config.surveys import host_port
from maildesk.desk import calendar, template_vars
from maildesk.desk.templates import Templates
from maildesk.errors import MaildeskError
from maildesk.store import db

OK, WARN, FAIL = "ok", "warn", "FAIL"


@dataclass(frozen=True)
class Check:
    """One line of `doctor`: what was checked, `ok | warn | FAIL`, and why."""

    name: str
    status: str
    detail: str


def secrets(config: Config) -> Iterator[Check]:
    """Each secret is found (and the desk's keys are long enough); an OAuth2 account's
    secrets were read when the config loaded, its tokens are the login's check."""
    named: list[Secret] = [m.imap.password for m in config.mailboxes if m.imap.oauth2 is None]
    smtp = config.smtp
    if smtp is not None and smtp.username and smtp.oauth2 is None:
        named.append(smtp.password)
    failed = False
    for secret in (config.desk.secret, *named):
        try:
            if secret is config.desk.secret:
                desk_keys(secret)
            else:
                secret.value()
        except MaildeskError as exc:
            failed = True
            yield Check("secrets", FAIL, str(exc))
    if not failed:
        wanted = [s for s in (config.desk.secret, *named) if s.env or s.file]
        found = {s.key: s.source() for s in wanted}
        yield Check("secrets", OK, "found: " + ", ".join(f"{k} ({v})" for k, v in found.items()))


def database(config: Config) -> Check:
    """Reachable, and its schema at the newest migration."""
    url = make_url(config.database.url)
    shown = url.render_as_string(hide_password=True)
    file = url.database if url.get_backend_name() == "sqlite" else None
    if file and file != ":memory:" and not Path(file).exists():  # connecting would make it
        return Check("database", FAIL, f"{shown}: no such file; run `maildesk init`")
    database = config.database
    engine = db.make_engine(database.url, database.busy_timeout, database.password.value())
    try:
        current = db.schema_revision(engine)
    except MaildeskError as exc:
        return Check("database", FAIL, f"{shown}: {exc}")
    finally:
        engine.dispose()
    if current != db.SCHEMA_REVISION:
        at = current or "nothing"
        want = db.SCHEMA_REVISION
        return Check(
            "database", FAIL, f"{shown}: schema at {at}, want {want}; run `maildesk init`"
        )
    return Check("database", OK, f"{shown}: schema at {current}, the newest")


def templates(config: Config) -> Check:
    """Every template file parses and renders against the samples (`templates check`)."""
    try:
        found = Templates(config.desk.templates_dir, config.desk.default_locale)
        problems = found.check(template_vars.all_samples())
    except MaildeskError as exc:
        return Check("templates", FAIL, str(exc))
    if problems:
        more = (
            f" and {len(problems) - 1} more (`maildesk templates check`)" if problems[1:] else ""
        )
        return Check("templates", FAIL, f"{problems[0]}{more}")
    return Check("templates", OK, f"{len(found.files())} files parse and render")


def people(config: Config) -> Iterator[Check]:
    """No agent address is the desk's own; every team has agents and a lead."""
    if not config.agents:
        yield Check("agents", OK, "none configured: nobody works tickets by mail")
        return
    own = {a.lower() for a in config.own_addresses()}
    own |= {m.imap.username.lower() for m in config.mailboxes if "@" in m.imap.username}
    clean = True
    for index, agent in enumerate(config.agents):
        for address in agent.all_addresses:
            if address.lower() in own:
                clean = False
                yield Check(
                    "agents",
                    FAIL,
                    f"agents[{index}]: {address} is also the desk's own address (a mailbox,"
                    " a team or the From address): the desk's own mail would pass for theirs",
                )
    for index, team in enumerate(config.teams):
        if not config.members(team.name):
            clean = False
            yield Check("agents", WARN, f"teams[{index}] {team.name!r} has no agents")
        if not team.leads:
            clean = False
            yield Check(
                "agents",
                WARN,
                f"teams[{index}] {team.name!r} has no leads: nobody hears of its tickets"
                " that nobody takes",
            )
    if clean:
        yield Check(
            "agents",
            OK,
            f"{len(config.agents)} agents in {len(config.teams)} teams; every team has a"
            " lead, no agent address is the desk's own",
        )


def calendars(config: Config) -> Check:
    try:
        built = calendar.build_all(config.calendars)
    except MaildeskError as exc:
        return Check("calendars", FAIL, str(exc))
    return Check("calendars", OK, f"{len(built)} load: {', '.join(built)}")


def web(config: Config) -> Iterator[Check]:
    """The survey page's address, and the monitor's when it has its own, can be listened
    on (nothing listens when none is set)."""
    if not config.web.listen:
        yield Check("web", OK, "no [web] listen: no survey page is served")
    else:
        yield _listenable("web", config.web.listen)
    if config.metrics.listen and config.metrics.listen != config.web.listen:
        yield _listenable("metrics", config.metrics.listen)


def _listenable(name: str, listen: str) -> Check:
    host, port = host_port(listen)
    try:
        socket.create_server((host, port)).close()
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            return Check(
                name,
                WARN,
                f"{host}:{port} is in use: by a `maildesk run` already, or by another program",
            )
        return Check(name, FAIL, f"cannot listen on {host}:{port}: {exc.strerror or exc}")
    return Check(name, OK, f"{host}:{port} can be listened on")
