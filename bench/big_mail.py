"""Memory for one large mail: how far the peak RSS rises over its size, in each process.

Runs `pipeline.process` on one mail of each size (one attachment of random bytes,
base64-encoded, as mail clients send it) on a fresh SQLite file, and prints the
rise of the main process's peak RSS over its resident size before the mail, and
the parse child's peak RSS over its size when idle, both as multiples of the
mail's size. Linux only (it reads and resets /proc/<pid>/status peaks).

    python bench/big_mail.py --mb 5 --mb 25 --mb 50
"""

import argparse
import os
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

from maildesk import config
from maildesk.app import App
from maildesk.intake import pipeline
from maildesk.store import db

CONFIG = """
[desk]
name = "Bench Support"
secret_env = "MAILDESK_BENCH_SECRET"
[database]
url = "sqlite:///{path}"
[intake]
max_message_bytes = {limit}
max_attachment_bytes = {limit}
"""


def status_kib(pid: int | str, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def reset_peak(pid: int | str) -> None:
    """Linux resets VmHWM to the current RSS when 5 is written to clear_refs."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def big_mail(size: int) -> bytes:
    mail = EmailMessage()
    mail["From"] = "Ann Lee <ann@customer.example>"
    mail["To"] = "support@desk.example"
    mail["Subject"] = "the logs you asked for"
    mail.set_content("Hello, the full server logs are attached.\n")
    mail.add_attachment(
        os.urandom(size * 3 // 4), maintype="application", subtype="zip", filename="logs.zip"
    )
    return mail.as_bytes()


def measure(app: App, raw: bytes) -> tuple[float, float, float]:
    """(main process rise, child peak rise, seconds) for one mail."""
    app.parser.parse(b"Subject: warm-up\n\nstart the child\n")
    child = app.parser._child.process.pid  # noqa: SLF001 - a benchmark looks inside
    child_idle = status_kib(child, "VmRSS")
    before = status_kib("self", "VmRSS")
    reset_peak("self")
    reset_peak(child)
    started = time.perf_counter()
    outcome = pipeline.process(app, raw, "bench")
    seconds = time.perf_counter() - started
    assert outcome == pipeline.Outcome.STORED, outcome
    main_rise = (status_kib("self", "VmHWM") - before) * 1024
    child_rise = (status_kib(child, "VmHWM") - child_idle) * 1024
    return main_rise, child_rise, seconds


def run(mib: int) -> None:
    size = mib * 2**20
    raw = big_mail(size)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "maildesk.toml"
        path.write_text(CONFIG.format(path=Path(folder) / "bench.db", limit=2 * size))
        app = App.build(config.load(path))
        db.upgrade(app.engine)
        try:
            main_rise, child_rise, seconds = measure(app, raw)
        finally:
            app.close()
    print(
        f"{len(raw) / 2**20:6.1f} MiB mail: main process +{main_rise / 2**20:6.1f} MiB "
        f"({main_rise / len(raw):.1f}x), parse child +{child_rise / 2**20:6.1f} MiB "
        f"({child_rise / len(raw):.1f}x), {seconds:.2f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, action="append", help="mail size in MiB (repeatable)")
    args = parser.parse_args()
    os.environ.setdefault("MAILDESK_BENCH_SECRET", "bench-secret-0123456789abcdef")
    for mib in args.mb or [5, 25, 50]:
        run(mib)


if __name__ == "__main__":
    main()
