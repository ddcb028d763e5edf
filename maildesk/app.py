"""The wiring: config, database and templates built once and passed down."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from maildesk import db
from maildesk.config import Config
from maildesk.errors import ConfigError
from maildesk.follow_up import SubjectTag
from maildesk.templates import Templates

MIN_SECRET_LENGTH = 16


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
    secret: str
    clock: Callable[[], datetime] = utc_now

    @classmethod
    def build(cls, config: Config, clock: Callable[[], datetime] = utc_now) -> "App":
        secret = config.desk.secret.value()
        if len(secret) < MIN_SECRET_LENGTH:
            raise ConfigError(
                f"{config.desk.secret.key}: the value of {config.desk.secret.env} is too short "
                f"(at least {MIN_SECRET_LENGTH} characters)"
            )
        engine = db.make_engine(config.database.url)
        return cls(
            config=config,
            engine=engine,
            sessions=db.session_factory(engine),
            templates=Templates(config.desk.templates_dir, config.desk.default_locale),
            tag=SubjectTag(config.desk.subject_tag),
            secret=secret,
            clock=clock,
        )

    def close(self) -> None:
        self.engine.dispose()
