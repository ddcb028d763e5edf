"""Mutated and truncated corpus mails through pipeline.process on a real SQLite file.

The invariant: every mail ends up stored (or recognised as a duplicate of a
stored one) or quarantined with its raw bytes; `process` never raises. The
examples are derandomised and bounded so the run is fast and the same on CI.
"""

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from maildesk.intake import pipeline
from maildesk.intake.pipeline import Outcome
from maildesk.mail.message import parse
from maildesk.store import db
from maildesk.store.intake_tables import Quarantine
from maildesk.store.tables import Blob, Message
from tests.mutate import SEEDS, mutate
from tests.support import fuzz

FUZZ = fuzz(150)


@st.composite
def mutated_mails(draw: st.DrawFn) -> bytes:
    """A corpus mail, truncated, with bytes flipped, inserted, or lines dropped."""
    return mutate(draw(st.sampled_from(SEEDS)), draw(st.randoms(use_true_random=False)))


@pytest.fixture
def app(make_app):
    return make_app()


@FUZZ
@given(raw=mutated_mails())
def test_every_mail_is_stored_or_quarantined(app, raw: bytes) -> None:
    outcome = pipeline.process(app, raw, "fuzz")
    with db.transaction(app.sessions) as session:
        blob = session.scalar(select(Blob).where(Blob.sha256 == hashlib.sha256(raw).hexdigest()))
        assert blob is not None and blob.data == raw, "raw bytes always kept"
        if outcome == Outcome.STORED:
            assert session.scalar(select(Message.id).where(Message.raw_id == blob.id))
        elif outcome == Outcome.QUARANTINED:
            assert session.scalar(select(Quarantine.id).where(Quarantine.raw_id == blob.id))
        else:
            assert outcome == Outcome.DUPLICATE


@FUZZ
@given(raw=mutated_mails())
def test_parse_either_reads_a_mail_or_says_it_is_none(raw: bytes) -> None:
    try:
        mail = parse(raw)
    except ValueError as error:
        assert "not an email" in str(error)
        return
    assert isinstance(mail.text, str) and isinstance(mail.subject, str)
