"""The parse child process and the two pipes to it; worker.py decides what to send.

Throughput hangs on one rule: the child never waits for the caller. A pipe
holds 64 KiB, two or three parsed mails, and the caller reads a result only
when it wants the next batch, so a child that wrote its results straight into
the pipe spent most of its time blocked there while `import` wrote to the
database, and the two ran in turn instead of side by side. Here a reader
thread moves each result out of the pipe as soon as it is written; at most
`ahead` of them wait in memory for the caller.

The parent's two threads each need the GIL after every system call, and
while the caller runs Python code that can cost them the switch interval
(5 ms). So they move many length-prefixed frames per call, through pipes and
buffers of 1 MiB: the feeder flushes only when no mail is queued. Raw mail
goes down as bytes, not pickled (a copy less of a large mail on each side); a
result comes back pickled once, as the Incoming or the reason it has none.
"""

import ctypes
import fcntl
import multiprocessing
import os
import pickle
import queue
import resource
import struct
import threading
import time
from contextlib import suppress
from multiprocessing.connection import Connection
from typing import BinaryIO

from maildesk.mail import tnef
from maildesk.mail.message import Incoming, parse

# How often a waiting parent looks at the clock of the mail in hand.
_TICK = 0.05
# Pipe capacity and I/O buffers: Linux lets any process raise a pipe to 1 MiB.
_BUFFER = 1 << 20
_FRAME = struct.Struct("!Q")  # the length before each mail or result
# forkserver: children are forked from a clean, single-threaded server that has
# the parser imported, so a new child costs milliseconds and inherits no threads.
_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload([__name__])

Reply = Incoming | str  # the parse, or why there is none


class Child:
    """One process that parses the mails sent to it, in order, and the clock of the one in hand."""

    def __init__(self, memory_bytes: int) -> None:
        child_requests, requests = _CONTEXT.Pipe(duplex=False)
        results, child_results = _CONTEXT.Pipe(duplex=False)
        for pipe in (requests, results):
            with suppress(OSError):  # a smaller limit in /proc/sys/fs/pipe-max-size: 64 KiB
                fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, _BUFFER)
        # The child counts the mails it begins, then sets the clock (0.0 between mails).
        self.begun: ctypes.c_longlong = _CONTEXT.Value("q", 0, lock=False)
        self.began: ctypes.c_double = _CONTEXT.Value("d", 0.0, lock=False)
        self.process = _CONTEXT.Process(
            target=_serve,
            args=(child_requests, child_results, self.begun, self.began, memory_bytes),
            name="maildesk-parse",
            daemon=True,
        )
        self.process.start()
        child_requests.close()
        child_results.close()
        self._outgoing: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._inbox: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._threads = (
            threading.Thread(target=self._feed, args=(requests,), name="maildesk-parse-feed"),
            threading.Thread(target=self._read, args=(results,), name="maildesk-parse-read"),
        )
        for thread in self._threads:
            thread.daemon = True  # a caller that never calls stop() still exits
            thread.start()
        self.sent = self.received = 0
        self._doomed: int | None = None  # which of its mails the child was killed on
        self.verdict: str | None = None
        self.blamed = False  # killed or died while on the mail after the last result

    def send(self, raw: bytes) -> None:
        self._outgoing.put(raw)
        self.sent += 1

    def receive(self, seconds: float) -> Reply | None:
        """The next result; None once the child is gone, with `verdict` and `blamed` set.

        A child killed past `seconds` still hands over the results it wrote before,
        so the mail it was killed on is the one after the last result.
        """
        frame = self._next(seconds)
        if frame is not None:
            self.received += 1
            return pickle.loads(frame)  # noqa: S301 - written by our own child
        self.process.join(5)  # the pipe's end: the child has exited, or is about to
        if self.verdict is None:
            self.verdict = f"the parser crashed (exit code {self.process.exitcode})"
            self.blamed = bool(self.began.value)
        else:
            self.blamed = self._doomed == self.received
        self.stop()
        return None

    def _next(self, seconds: float) -> bytes | None:
        """The next frame from the reader thread; kills the child when its mail overruns."""
        while True:
            try:
                return self._inbox.get(timeout=_TICK)
            except queue.Empty:
                pass
            # The count before the clock: a clock past `seconds` was set before this
            # read, so the count is that of the mail it times.
            in_hand = self.begun.value - 1
            began = self.began.value
            if self.verdict is None and began and time.monotonic() - began > seconds:
                self.verdict = f"parsing took over intake.parse_seconds = {seconds:g} s"
                self._doomed = in_hand
                self.process.kill()

    def stop(self) -> None:
        """End the child: at its next read if it has nothing in hand, else at once."""
        self._outgoing.put(None)
        if self.verdict is None and self.received == self.sent:
            self.process.join(5)
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self.process.close()
        for thread in self._threads:
            thread.join()

    def _feed(self, requests: Connection) -> None:
        """Write queued mail to the child, flushing when none is queued; None ends the stream."""
        with suppress(OSError), _writer(requests) as pipe:  # OSError: the child is gone
            while (raw := self._outgoing.get()) is not None:
                _write_frame(pipe, raw)
                if self._outgoing.empty():
                    pipe.flush()
        requests.close()

    def _read(self, results: Connection) -> None:
        """Move each result to the inbox as soon as it is written; None once the child is gone."""
        with _reader(results) as pipe:
            while (frame := _read_frame(pipe)) is not None:
                self._inbox.put(frame)
        results.close()
        self._inbox.put(None)


def _serve(
    requests: Connection,
    results: Connection,
    begun: ctypes.c_longlong,
    began: ctypes.c_double,
    memory_bytes: int,
) -> None:
    """The child's loop: parse each mail, answer in order, until the pipe closes."""
    tnef.quiet_library()  # the child runs no start-up of its own
    _limit_memory(memory_bytes)
    threading.Thread(target=_exit_with_parent, name="maildesk-parent-watch", daemon=True).start()
    with _reader(requests) as inbox, _writer(results) as outbox:
        while (raw := _read_frame(inbox)) is not None:
            begun.value += 1
            began.value = time.monotonic()
            reply = _parse_one(raw)
            del raw
            began.value = 0.0
            _write_frame(outbox, _pickled(reply))
            outbox.flush()


def _exit_with_parent() -> None:
    """A parent killed with SIGKILL closes no pipe for us mid-parse: end when it is gone."""
    parent = multiprocessing.parent_process()
    if parent is not None:  # always, in a child: the forkserver started us for a parent
        parent.join()
    os._exit(1)


def _parse_one(raw: bytes) -> Reply:
    try:
        return parse(raw)
    except MemoryError:
        return "parsing needed more than intake.parse_memory_mb"
    except Exception as exc:  # noqa: BLE001 - any failure is a verdict on this mail
        return f"{type(exc).__name__}: {exc}"[:2000]


def _pickled(reply: Reply) -> bytes:
    try:
        return pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
    except MemoryError:
        return pickle.dumps("parsing needed more than intake.parse_memory_mb")


def _limit_memory(memory_bytes: int) -> None:
    """Cap the child's address space at what it uses now plus the budget."""
    with open("/proc/self/statm") as statm:
        in_use = int(statm.read().split()[0]) * resource.getpagesize()
    limit = in_use + memory_bytes
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _reader(pipe: Connection) -> BinaryIO:
    return open(pipe.fileno(), "rb", buffering=_BUFFER, closefd=False)  # noqa: SIM115


def _writer(pipe: Connection) -> BinaryIO:
    return open(pipe.fileno(), "wb", buffering=_BUFFER, closefd=False)  # noqa: SIM115


def _write_frame(pipe: BinaryIO, data: bytes) -> None:
    pipe.write(_FRAME.pack(len(data)))
    pipe.write(data)


def _read_frame(pipe: BinaryIO) -> bytes | None:
    """The next frame; None at the end of the stream, or for one cut short by a death."""
    header = pipe.read(_FRAME.size)
    if len(header) < _FRAME.size:
        return None
    (size,) = _FRAME.unpack(header)
    data = pipe.read(size)
    return data if len(data) == size else None
