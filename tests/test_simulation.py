"""bench/simulate.py: seeded traffic through the real pipeline on a virtual clock, and the
report page it writes, opened in headless Chromium: every chart has data, the console is
silent. (`--days 30` makes the month of docs/report.png; a day here keeps it fast.)"""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_report import _chromium

ROOT = Path(__file__).parent.parent
CHARTS = 6  # volume, first response, resolution, SLA, escalations, CSAT per agent


def test_a_simulated_day_gives_a_report_page_whose_every_chart_has_data(tmp_path):
    browser = _chromium()
    if browser is None:
        pytest.skip("no chromium on PATH (apt-get install chromium)")
    run = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "simulate.py"), "--days", "1", "--scale", "0.4"]
        + ["--seed", "3", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "desk.db").stat().st_size > 0
    assert re.search(r"surveys answered: [1-9]", run.stdout), run.stdout
    assert re.search(r"reopened: [1-9]\d* of", run.stdout), run.stdout

    dom, console = _opened(browser, tmp_path / "report.html")
    assert console == [], "the page runs no script: anything in its console is an error"
    charts = re.findall(r"<svg.*?</svg>", dom, re.S)
    assert len(charts) == CHARTS
    for chart in charts:
        title = re.search(r'class="title"[^>]*>([^<]+)<', chart)
        assert 'class="no_data"' not in chart, title
        heights = re.findall(r'<rect[^>]*height="([\d.]+)"[^>]*class="rect reactive', chart)
        assert any(float(h) > 0 for h in heights), f"no bar drawn in {title}"


def test_chromium_reports_a_console_message_the_way_the_check_reads_it(tmp_path):
    """The check above reads nothing into silence: a page that logs is seen logging."""
    browser = _chromium()
    if browser is None:
        pytest.skip("no chromium on PATH (apt-get install chromium)")
    page = tmp_path / "noisy.html"
    page.write_text("<script>console.error('broken chart')</script>", encoding="utf-8")
    _dom, console = _opened(browser, page)
    assert len(console) == 1 and "broken chart" in console[0]


def _opened(browser: str, page: Path) -> tuple[str, list[str]]:
    """The page's DOM after Chromium loaded it, and the lines its console logged."""
    dom = subprocess.run(
        [browser, "--headless=new", "--no-sandbox", "--disable-gpu"]
        + [f"--user-data-dir={page.parent / 'profile'}", "--enable-logging=stderr", "--v=0"]
        + ["--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert dom.returncode == 0, dom.stderr
    return dom.stdout, [line for line in dom.stderr.splitlines() if ":CONSOLE" in line]
