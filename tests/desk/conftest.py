"""Fixtures of the desk's tests that more than one module uses."""

import pytest

from tests.conftest import make_mail
from tests.support import cycle

VERP = '[bounces]\nreturn_path = "bounces@desk.example"\n'


@pytest.fixture
def acked(mailbox, smtp_sink, make_app):
    """A desk with `extra` config whose ack to Ann went out: (app, the ack)."""

    def start(extra: str = VERP):
        app = make_app(mailbox, smtp_sink, extra=extra)
        mailbox.deliver(make_mail(subject="Help please"))
        cycle(app)
        return app, smtp_sink.messages[0]

    return start
