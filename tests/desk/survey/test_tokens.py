"""The survey token's check is total: any text in, a genuine (survey, number) or None out."""

from hypothesis import given
from hypothesis import strategies as st

from maildesk.desk.survey import tokens
from maildesk.mail.keys import Keys
from tests.support import fuzz

KEYS = Keys(("test-secret",))
ids = st.integers(min_value=1, max_value=tokens.MAX_ID)
# Text shaped like a token (digits of any script, dots, base64 and worse) and any text.
_pieces = st.lists(st.text("0123456789٠٩²AZaz_-=+/✓", max_size=30), min_size=1, max_size=4)
near_tokens = _pieces.map(".".join)


@fuzz(400)
@given(st.one_of(near_tokens, st.text(max_size=6000)))
def test_any_text_is_none_never_an_error(text):
    assert tokens.check(KEYS, text) is None


@fuzz(200)
@given(ids, ids)
def test_a_made_token_checks_and_any_change_of_it_does_not(survey, number):
    token = tokens.make(KEYS, survey, number)
    assert tokens.check(KEYS, token) == (survey, number)
    assert tokens.check(Keys(("another-secret",)), token) is None
    body, _, mac = token.rpartition(".")
    assert tokens.check(KEYS, f"{body}.{mac[:-1]}{'A' if mac[-1] != 'A' else 'B'}") is None
    assert tokens.check(KEYS, f"{survey + 1}.{number}.{mac}") is None


@fuzz(200)
@given(ids, ids, st.text(min_size=1, max_size=40))
def test_a_genuine_token_with_anything_around_it_is_none(survey, number, extra):
    token = tokens.make(KEYS, survey, number)
    assert tokens.check(KEYS, token + extra) is None
    assert tokens.check(KEYS, extra + token) is None


def test_odd_shapes_are_none():
    genuine = tokens.make(KEYS, 7, 42)
    mac = genuine.rsplit(".", 1)[1]
    for odd in (
        "",
        "..",
        "1.2",
        "✓",
        "a" * 5000,
        f"٧.٤٢.{mac}",  # Arabic-Indic digits are digits to str.isdigit, not to int()
        f"²⁷.42.{mac}",
        f"07.42.{mac}",  # a leading zero: another spelling of the same survey
        f"{'9' * 5000}.42.{mac}",  # past int()'s digit limit
        f"{tokens.MAX_ID + 1}.42.{mac}",  # past PostgreSQL's INTEGER
        f"7.42.{mac[:-1]}✓",
        genuine + "\n",
    ):
        assert tokens.check(KEYS, odd) is None, odd
