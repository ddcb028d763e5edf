"""IMAP IDLE (RFC 2177) on an imaplib client: any untagged response is news.

Why not imap-tools' `box.idle.wait`: it reads with the socket non-blocking,
so a response that arrives in several TCP segments (pymap writes
`* 1 FETCH (FLAGS ())` in five) is cut in the middle; the cut raises, and the
DONE sent on the way out reads the rest as "unexpected response", so news
looked like a lost connection. It also waits on the socket while a response
may already sit in imaplib's read buffer, and drops what the server says
while IDLE is being ended.

Here the wait is on the socket only after a look at that buffer, and every
response is read whole under the connection's own timeout, so only a real
failure (EOF, timeout, IDLE refused) raises.
"""

import imaplib
import io
import selectors
import ssl
from typing import cast


def register() -> None:
    """Teach imaplib the IDLE command, which it knows only from Python 3.14 on.

    Done when an IDLE starts, not at import; idempotent (a known IDLE is kept).
    """
    imaplib.Commands.setdefault("IDLE", ("AUTH", "SELECTED"))


def wait(client: imaplib.IMAP4, timeout: float) -> bool:
    """IDLE until the server says anything or `timeout` seconds pass; True if it spoke.

    What it said is not parsed: EXISTS, EXPUNGE, FETCH, FLAGS or a keep-alive
    all just mean "look", and polling decides what is new.
    """
    client.untagged_responses.clear()  # SELECT's answers and the last round's are old news
    tag = _start(client)
    if _input_waiting(client, timeout):
        client._get_response()
    _finish(client, tag)
    return bool(client.untagged_responses)


def _start(client: imaplib.IMAP4) -> bytes:
    """Send IDLE and read up to the server's "+" (updates may come before it)."""
    register()
    tag = client._command("IDLE")
    while client._get_response() is not None:  # None is the continuation
        if client.tagged_commands[tag]:
            raise client.error(f"IDLE refused: {client.tagged_commands.pop(tag)}")
    return tag


def _input_waiting(client: imaplib.IMAP4, timeout: float) -> bool:
    """True once a response has begun within `timeout` s, counting bytes imaplib holds."""
    sock = client.sock
    previous = sock.gettimeout()
    sock.settimeout(0)  # peek must not block: it reads the socket when the buffer is empty
    try:
        # imaplib reads through sock.makefile("rb"); typeshed says IO[str] | IO[bytes].
        if cast(io.BufferedReader, client.file).peek(1):
            return True
    except ssl.SSLWantReadError:  # TLS with nothing to read: the non-blocking "no data"
        pass
    finally:
        sock.settimeout(previous)
    with selectors.DefaultSelector() as selector:
        selector.register(sock, selectors.EVENT_READ)
        return bool(selector.select(timeout))


def _finish(client: imaplib.IMAP4, tag: bytes) -> None:
    """Send DONE (unless the server ended IDLE) and read up to its tagged OK."""
    if not client.tagged_commands[tag]:
        client.send(b"DONE\r\n")
    while not client.tagged_commands[tag]:
        client._get_response()
    # imaplib keeps (status, [data]) once the tagged response came, as waited for above;
    # typeshed types the values as list[bytes] | None.
    status, data = cast(tuple[str, list[bytes]], client.tagged_commands.pop(tag))
    if status != "OK":
        raise client.error(f"IDLE ended with {status}: {data}")
