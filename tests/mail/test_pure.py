"""Importing maildesk changes nothing: no logger level, no imaplib command, no thread.

The mail library is functions over bytes, and no module of maildesk sets up
its process at import (app.start_up does, when a command or the daemon
starts; `__main__` is left out: it runs the command line). Each probe runs in
a fresh interpreter, so what this test process already imported or set does
not hide a change.
"""

import json
import subprocess
import sys

import pytest

PROBE = """
import imaplib, importlib, json, logging, pkgutil, sys, threading

def levels():
    found = {"": logging.root.level}
    for name, logger in logging.root.manager.loggerDict.items():
        if isinstance(logger, logging.Logger):
            found[name] = logger.level
    return found

package = importlib.import_module(sys.argv[1])
for library in sys.argv[2:]:  # what a library does at its own import is not ours
    importlib.import_module(library)
levels_before, commands_before = levels(), dict(imaplib.Commands)
threads_before = set(threading.enumerate())
walked = pkgutil.walk_packages(package.__path__, package.__name__ + ".")
names = [m.name for m in walked if not m.name.endswith(".__main__")]  # runs the CLI
for name in names:
    importlib.import_module(name)
changed = {
    name: level
    for name, level in levels().items()
    if level != levels_before.get(name, logging.NOTSET)
}
print(json.dumps({
    "modules": names,
    "levels": changed,
    "commands": sorted(set(imaplib.Commands.items()) ^ set(commands_before.items())),
    "threads": sorted(t.name for t in set(threading.enumerate()) - threads_before),
}))
"""


def imported(package: str, *libraries: str) -> dict:
    """What importing every module of `package` changed, in a fresh interpreter,
    counted from after the import of `libraries`."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, package, *libraries],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return json.loads(done.stdout)


# sqlalchemy sets its own logger's level, imap-tools teaches imaplib IDLE, at their import.
LIBRARIES_THAT_SET_UP = ("sqlalchemy", "imap_tools")


@pytest.mark.parametrize(
    ("package", "some_module", "libraries"),
    [
        ("maildesk.mail", "maildesk.mail.tnef", ()),
        ("maildesk", "maildesk.transport.idle", LIBRARIES_THAT_SET_UP),
    ],
    ids=["mail", "all"],
)
def test_importing_every_module_sets_no_logger_level_command_or_thread(
    package, some_module, libraries
):
    found = imported(package, *libraries)
    assert some_module in found["modules"], "the probe walked the package"
    assert found["levels"] == {}, "logger levels are set at start-up, not at import"
    assert found["commands"] == [], "imaplib learns IDLE when an IDLE starts"
    assert found["threads"] == []
