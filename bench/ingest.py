"""Ingest benchmark: `maildesk import` of a generated mbox against a bare stdlib baseline.

Why it exists: intake does much more per mail than "parse it and store it"
(content-addressed blobs, dedupe, classification, threading, rules, quote
stripping, acknowledgements rendered into the outbox), but importing a large
mailbox must stay within a sane factor of that floor, and its memory must not
grow with the size of the mailbox. This script turns both into numbers; it
asserts nothing.

How to run (repository root, maildesk installed, e.g. `pip install -e '.[test,demo]'`):

    python bench/ingest.py                      # N=2000
    python bench/ingest.py --n 2000 --n 10000   # one block per N: compare peak RSS
    python bench/ingest.py --n 500 --keep       # keep the mbox, config and databases

For each N it writes, in a fresh temporary directory, a seeded mbox of
realistic support mail (mailgen.py: plain, HTML-only and multipart/alternative bodies;
utf-8, gb2312, GBK labelled gb2312 and iso-8859-1; 8bit, quoted-printable and
base64; attachments of 2-200 KB; ~25% follow-ups with In-Reply-To; a few
auto-replies and DSN bounces), then times two child processes on it:

* `maildesk --config CFG import MBOX` on a fresh SQLite database (after `init`);
* the baseline: mailbox.mbox + email.message_from_bytes(policy.default) + one
  sqlite3 INSERT (message-id, subject, raw) per mail, committed every 100.

Peak RSS is ru_maxrss from os.wait4: the largest process of each child's tree
(for `import`, its own or that of its parse worker), so the two are comparable.
CPU is the whole tree's. The machine must be otherwise idle: `import` runs on
two cores (main process and parse worker), the baseline on one, so any other
load skews the ratio against maildesk.
"""

import argparse
import email
import mailbox
import os
import secrets
import shutil
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from email import policy
from pathlib import Path

from harness import MIB, ChildRun, run_child, write_config
from mailgen import write_mbox

BASELINE_SCHEMA = (
    "CREATE TABLE mails (id INTEGER PRIMARY KEY, message_id TEXT, subject TEXT, raw BLOB NOT NULL)"
)
BASELINE_INSERT = "INSERT INTO mails (message_id, subject, raw) VALUES (?, ?, ?)"


def baseline_worker(mbox: Path, database: Path) -> None:
    """The floor: stdlib parse of each mail plus one INSERT, committed every 100."""
    connection = sqlite3.connect(database)
    connection.execute(BASELINE_SCHEMA)
    box = mailbox.mbox(mbox, factory=None, create=False)
    count = 0
    for key in box.iterkeys():
        raw = box.get_bytes(key)
        msg = email.message_from_bytes(raw, policy=policy.default)
        subject, message_id = msg["subject"], msg["message-id"]
        connection.execute(
            BASELINE_INSERT,
            (str(message_id) if message_id else None, str(subject) if subject else None, raw),
        )
        count += 1
        if count % 100 == 0:
            connection.commit()
    connection.commit()
    connection.close()
    print(f"inserted: {count}")


def mix_lines(mix: Counter[str]) -> list[str]:
    """The mix of generated mails, one line per tag group, then the attachments."""
    groups: dict[str, list[str]] = {}
    for tag, count in sorted(mix.items(), key=lambda item: (-item[1], item[0])):
        group, _, value = tag.partition("=")
        if value and group != "attach":
            groups.setdefault(group, []).append(f"{value} {count}")
    lines = [f"  {group:<5} " + ", ".join(values) for group, values in groups.items()]
    lines.append(
        f"  attachments: {mix['attach=mails']} mails, {mix['attach=files']} files, "
        f"{mix['attach=bytes'] / MIB:.1f} MiB decoded"
    )
    return lines


def report(n: int, mix: Counter[str], gen_seconds: float, desk: ChildRun, base: ChildRun) -> None:
    """Print one N's block: the mbox, its mix, both runs and the rate ratio."""
    desk_rate, base_rate = n / desk.seconds, n / base.seconds
    print(f"== N={n}: mbox {mix['bytes'] / MIB:.1f} MiB, generated in {gen_seconds:.1f} s ==")
    print("mix:")
    print("\n".join(mix_lines(mix)))
    for label, run, rate in (("maildesk import", desk, desk_rate), ("baseline", base, base_rate)):
        print(
            f"{label:16} {run.seconds:8.2f} s  {rate:8.1f} msg/s  cpu {run.cpu_seconds:7.2f} s"
            f"  peak RSS {run.peak_rss_mib:7.1f} MiB  | {run.stdout.strip()}"
        )
    print(f"maildesk/baseline rate: {100 * desk_rate / base_rate:.1f} %")
    print(flush=True)


def bench(n: int, seed: int, keep: bool) -> None:
    """Generate N mails, time `maildesk import` and the baseline on them, report."""
    work = Path(tempfile.mkdtemp(prefix=f"maildesk-bench-{n}-"))
    try:
        mbox = work / "mails.mbox"
        start = time.perf_counter()
        mix = write_mbox(mbox, n, seed)
        gen_seconds = time.perf_counter() - start
        env = dict(os.environ, MAILDESK_SECRET=secrets.token_hex(32))
        maildesk = [sys.executable, "-m", "maildesk", "--config", str(write_config(work))]
        run_child([*maildesk, "init"], env, work, "init")
        desk = run_child([*maildesk, "import", str(mbox)], env, work, "import")
        base = run_child(
            [sys.executable, __file__, "--baseline-worker", str(mbox), str(work / "base.db")],
            env,
            work,
            "baseline",
        )
        report(n, mix, gen_seconds, desk, base)
    finally:
        if keep:
            print(f"kept {work}\n")
        else:
            shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    """One bench per --n; --baseline-worker is the baseline's child process."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--n",
        action="append",
        type=int,
        metavar="N",
        help="mails to generate (repeatable; default 2000)",
    )
    parser.add_argument("--seed", type=int, default=20261123, help="generator seed")
    parser.add_argument("--keep", action="store_true", help="keep each N's work directory")
    parser.add_argument(
        "--baseline-worker", nargs=2, metavar=("MBOX", "DB"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.baseline_worker:
        baseline_worker(Path(args.baseline_worker[0]), Path(args.baseline_worker[1]))
        return
    for n in args.n or [2000]:
        bench(n, args.seed, args.keep)


if __name__ == "__main__":
    main()
