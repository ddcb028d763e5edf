"""Start-up of the command line: what one `maildesk ...` process costs before it works.

Why it exists: each command is a new interpreter, and the suite runs many; a
command that imported every other command's libraries (the report's charts,
the servers' clients, the segmenter) paid about two seconds for nothing. This
runs each command N times as a process, on a fresh SQLite desk, and prints
the median CPU seconds (user + system, which a busy machine does not inflate
the way it does wall time) and wall seconds. It asserts nothing.

How to run (repository root):

    python bench/startup.py            # N=5
    python bench/startup.py --n 10
"""

import argparse
import os
import resource
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COMMANDS = (["--help"], ["--version"], ["init"], ["stats", "--json"], ["tickets", "list"])
CONFIG = """
[desk]
name = "Bench"
secret_env = "MAILDESK_SECRET"

[database]
url = "sqlite:///{folder}/desk.db"
"""


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """CPU and wall seconds of one process running `argv`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(argv, env=env, check=True, capture_output=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--n", type=int, default=5, help="runs of each command")
    n = parser.parse_args().n
    with tempfile.TemporaryDirectory(prefix="maildesk-startup-") as folder:
        config = Path(folder) / "maildesk.toml"
        config.write_text(CONFIG.format(folder=folder), encoding="utf-8")
        env = dict(os.environ, MAILDESK_SECRET=secrets.token_hex(32))
        base = [sys.executable, "-m", "maildesk", "--config", str(config)]
        timed([*base, "init"], env)
        print(f"{'command':<16} {'cpu s':>7} {'wall s':>7}   (median of {n})")
        for command in COMMANDS:
            runs = [timed([*base, *command], env) for _ in range(n)]
            cpu = statistics.median(r[0] for r in runs)
            wall = statistics.median(r[1] for r in runs)
            print(f"{' '.join(command):<16} {cpu:>7.2f} {wall:>7.2f}")


if __name__ == "__main__":
    main()
