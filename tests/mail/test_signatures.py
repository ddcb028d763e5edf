"""Where the words end: "-- ", or a bare "--" only above a short signature (#18 class 4)."""

import pytest

from maildesk.mail.quotes import strip_quotes
from maildesk.mail.signatures import TAIL_LINES, without_signature

GREP = (
    "app.log-1203-09:14:01 INFO start\napp.log:1204:09:14:02 ERROR disk full\n--\n"
    "app.log-2210-11:30:40 INFO retry\napp.log:2211:11:30:41 ERROR disk full"
)


@pytest.mark.parametrize(
    "text",
    [
        f"grep gives:\n\n{GREP}\n\nWhat fills the disk?",
        f"grep gives:\n\n{GREP}",
        "Step one: restart.\n\n--\n\nStep two: clear the cache, then log in again and open the "
        "report page; it still shows last week's numbers for every store in the region.",
        "The config:\n\n```\nlisten 80\n--\nlisten 443\n```\n\nWhich one is wrong?",
        "The query:\n\n```sql\nSELECT 1\n-- \nFROM orders\n```",
        "Part one\n--\nWe see it on\n--\nthree machines",
        "Before\n--\n" + "\n".join(f"line {n}" for n in range(TAIL_LINES + 1)),
        "Output:\n--\nTraceback (most recent call last):\n  File x.py",
    ],
    ids=[
        "grep groups",
        "grep at the end",
        "a rule above long words",
        "fenced --",
        "fenced '-- '",
        "two bare lines",
        "a tail too long",
        "a trace below",
    ],
)
def test_a_bare_dash_line_in_the_words_cuts_nothing(text: str) -> None:
    assert strip_quotes(text) == text


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (
            "Printer fixed, thanks.\n--\nAnn Lee\nFacilities, ACME\n+86 21 5555 0100",
            "Printer fixed",
        ),
        ("Printer fixed.\n\n-- \nAnn Lee\n" + "Disclaimer line.\n" * 20, "Printer fixed."),
        ("Printer fixed.\n  --\n    Ann Lee\n    ACME", "Printer fixed."),
        ("Printer fixed.\n--\xa0\nAnn Lee", "Printer fixed."),
    ],
    ids=["bare -- above a short signature", "'-- ' above a long one", "from HTML", "no-break"],
)
def test_a_signature_is_cut(text: str, words: str) -> None:
    assert strip_quotes(text).startswith(words) and "Ann Lee" not in strip_quotes(text)


def test_trailing_counts_only_a_short_signature_at_the_end() -> None:
    forward = "New hire Dana.\n-- \nHR Team\n\nPlease set up VPN.\n\n-- \nAnn Lee"
    assert without_signature(forward, trailing=True) == "New hire Dana.\n-- \nHR Team\n\n" + (
        "Please set up VPN."
    )
    assert without_signature("Log\n-- \n" + "x\n" * 20, trailing=True) == "Log\n-- \n" + (
        "x\n" * 19 + "x"
    )


def test_many_dash_lines_cost_linear_time() -> None:
    text = "--\nerror 12:00:01\n" * 20_000
    assert strip_quotes(text) == text.strip()
