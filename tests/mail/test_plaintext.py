"""plaintext.one_line: customer text as one bounded printable line. Pure, no fixtures."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maildesk.mail.plaintext import ELLIPSIS, is_control, one_line


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("Ann Lee", 80, "Ann Lee"),
        ("Ann\r\nBcc: victim@target.test", 80, "Ann Bcc: victim@target.test"),
        ("  a \t\x00\x1b[31m b  ", 80, "a [31m b"),
        ("a\u2028b\u202ec\u0085d", 80, "a b c d"),
        ("张伟", 80, "张伟"),
        ("x" * 10_000, 80, "x" * 79 + ELLIPSIS),
        ("word " * 50, 12, "word word w" + ELLIPSIS),
        ("", 80, ""),
    ],
)
def test_one_line(text, limit, expected):
    assert one_line(text, limit) == expected


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(text=st.text(), limit=st.integers(1, 300))
def test_one_line_is_printable_bounded_and_keeps_short_text(text, limit):
    line = one_line(text, limit)
    assert len(line) <= limit and line == line.strip() and "  " not in line
    assert not any(is_control(ch) or (ch.isspace() and ch != " ") for ch in line)
    assert one_line(line, limit) == line
