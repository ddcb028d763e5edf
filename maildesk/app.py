"""The wiring: config, database and templates built once and passed down; start-up."""

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from maildesk.config import Config, Secret
from maildesk.desk import calendar
from maildesk.desk.calendar import Clockwork
from maildesk.desk.context import Desk
from maildesk.desk.subscriptions import REACTIONS
from maildesk.desk.templates import Templates
from maildesk.errors import ConfigError
from maildesk.kb.knowledge import Knowledge
from maildesk.mail import tnef
from maildesk.mail.keys import Keys
from maildesk.mail.subject_tag import SubjectTag
from maildesk.meter import Meter
from maildesk.sandbox.worker import Budget, ParseWorker
from maildesk.store import db

MIN_SECRET_LENGTH = 16
# Job start/finish lines would drown the log; "skipped: maximum number of running
# instances" is expected when IDLE wakes a poll while another one already waits.
_SCHEDULER_LEVELS = {"apscheduler": logging.WARNING, "apscheduler.scheduler": logging.ERROR}


def start_up() -> None:
    """What a process of maildesk sets once, before it works: the libraries' log levels.

    Called by the command line and the daemon, never at import (importing a module
    of maildesk changes nothing). Idempotent.
    """
    tnef.quiet_library()
    for name, level in _SCHEDULER_LEVELS.items():
        logging.getLogger(name).setLevel(level)


def desk_keys(secret: Secret) -> Keys:
    """The desk's keys from its secret: several, newest first, split on whitespace or
    commas, each at least MIN_SECRET_LENGTH long (a guessable key forges ids)."""
    value = secret.value()
    if not value.strip():
        raise ConfigError(f"{secret.key}: {secret.source()} is empty")
    keys = Keys.parse(value)
    for place, key in enumerate(keys.all, start=1):
        if len(key) < MIN_SECRET_LENGTH:
            which = f"secret {place} of {len(keys.all)}" if len(keys.all) > 1 else "the secret"
            raise ConfigError(
                f"{secret.key}: {which} in {secret.source()} is too short "
                f"(at least {MIN_SECRET_LENGTH} characters)"
            )
    return keys


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class App:
    """Everything a command needs; tests build one with their own clock."""

    config: Config
    engine: Engine
    sessions: sessionmaker[Session]
    templates: Templates
    tag: SubjectTag
    keys: Keys  # the desk secret's, the first signs (mail/keys.py)
    parser: ParseWorker
    calendars: Mapping[str, Clockwork]  # read-only, as the desk's Protocol names it
    clock: Callable[[], datetime] = utc_now
    knowledge: Knowledge = field(default_factory=Knowledge)  # the published articles' index
    meter: Meter = field(default_factory=Meter)  # what this process counts (/metrics)
    # Outbox rows the SMTP server accepted whose mark as sent failed: the next drain marks
    # them (transport/outbox.py), so a database that went away sends no mail twice.
    outbox_accepted: set[int] = field(default_factory=set)

    @classmethod
    def build(cls, config: Config, clock: Callable[[], datetime] = utc_now) -> "App":
        keys = desk_keys(config.desk.secret)
        database = config.database
        meter = Meter()
        engine = db.make_engine(database.url, database.busy_timeout, database.password.value())
        db.count_errors(engine, meter.database_error)
        intake = config.intake
        budget = Budget(
            intake.max_message_bytes, intake.parse_seconds, intake.parse_memory_mb * 1024 * 1024
        )
        return cls(
            config=config,
            engine=engine,
            sessions=db.session_factory(engine),
            templates=Templates(config.desk.templates_dir, config.desk.default_locale),
            tag=SubjectTag(config.desk.subject_tag),
            keys=keys,
            parser=ParseWorker(budget, meter.parse_killed),
            calendars=calendar.build_all(config.calendars),
            clock=clock,
            meter=meter,
        )

    def desk(self) -> Desk:
        """The desk for one unit of work (a transaction), with a Batch of its own."""
        return Desk(
            self.config,
            self.templates,
            self.tag,
            self.keys,
            self.calendars,
            REACTIONS,
            self.knowledge,
        )

    def close(self) -> None:
        self.parser.close()
        self.engine.dispose()
