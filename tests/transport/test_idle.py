"""IDLE on Dovecot and pymap: whatever the server says during IDLE is news, not a failure."""

import threading
from pathlib import Path
from unittest import mock

from maildesk import config
from maildesk.config import ImapConfig
from maildesk.transport import idle
from maildesk.transport.inbox import Inbox
from tests.conftest import Mailbox, config_text, make_mail

# An IDLE that ends before IDLE_TIMEOUT ended on news; a wait of HANG (far below it)
# only catches a hang. No deadline on how fast: a loaded machine is slow, not wrong.
IDLE_TIMEOUT = 600.0
HANG = 120.0


def imap_config(tmp_path: Path, box: Mailbox) -> ImapConfig:
    path = tmp_path / "maildesk.toml"
    path.write_text(config_text(tmp_path / "desk.db", box.server.port, box.user, None))
    return config.load(path).mailboxes[0].imap


def wait_for_news_while(inbox: Inbox, action) -> bool:
    """IDLE in a thread and, once the server has accepted it, do `action` from another
    connection; what the IDLE returned."""
    outcome: list[bool | BaseException] = []
    idling = threading.Event()
    start = idle._start

    def started(client) -> bytes:
        tag = start(client)
        idling.set()  # the server's "+": what happens from here on is news to this IDLE
        return tag

    def watch() -> None:
        try:
            outcome.append(inbox.wait_for_news(IDLE_TIMEOUT))
        except Exception as exc:  # noqa: BLE001 - handed to the test thread
            outcome.append(exc)
        finally:
            idling.set()

    watcher = threading.Thread(target=watch, daemon=True)
    with mock.patch.object(idle, "_start", started):
        watcher.start()
        assert idling.wait(HANG), "the IDLE did not start"
        if not outcome:
            action()
        watcher.join(HANG)
    assert not watcher.is_alive(), "the IDLE did not end on the server's news"
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    return outcome[0]


def test_every_delivery_is_news_and_the_connection_stays_usable(any_mailbox, tmp_path):
    """pymap sends `* n FETCH (FLAGS ())` in pieces after each delivery: many rounds, no error."""
    rounds = 15
    with Inbox(imap_config(tmp_path, any_mailbox)) as inbox:
        for i in range(rounds):
            mail = make_mail(subject=f"round {i}")
            assert wait_for_news_while(inbox, lambda m=mail: any_mailbox.deliver(m))
        assert len(inbox.uids()) == rounds


def test_an_untagged_flags_response_is_news(dovecot, tmp_path):
    """A new keyword makes Dovecot send `* FLAGS (...)` to the idling connection."""
    box = Mailbox(dovecot, dovecot.new_user())
    box.deliver(make_mail())

    def add_keyword() -> None:
        with box.connect() as client:
            client.flag(client.uids(), ("maildesk-test",), True)

    with Inbox(imap_config(tmp_path, box)) as inbox:
        assert wait_for_news_while(inbox, add_keyword)
        flags = inbox.box.client.untagged_responses["FLAGS"]
        assert any(b"maildesk-test" in line for line in flags)


def test_a_quiet_idle_ends_at_its_timeout_without_news(any_mailbox, tmp_path):
    with Inbox(imap_config(tmp_path, any_mailbox)) as inbox:
        assert inbox.wait_for_news(0.2) is False
        assert inbox.wait_for_news(0.2) is False
        assert inbox.uids() == []
