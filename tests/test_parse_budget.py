"""No mail can stall intake: crafted attachments, runaway parses, oversized mail.

The parse runs in a child with a size, time and memory budget
(parse_worker.py); a mail past it is quarantined with the reason and the mails
behind it are processed. Over IMAP these run on Dovecot with a real database.
"""

import logging
import os
import struct
from email.message import EmailMessage
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from maildesk import db, poller, tnef
from maildesk.intake import Outcome
from maildesk.message import Incoming, parse
from maildesk.models import Quarantine
from maildesk.parse_worker import Budget, ParseWorker, Unparseable
from tests.conftest import make_mail

MAIL = Path(__file__).parent / "mail"
TNEF_SIGNATURE = 0x223E9F78
MAPI_PROPS = 0x9003


def tnef_blob(*objects: tuple[int, bytes]) -> bytes:
    """A winmail.dat of message-level objects (attribute name, data)."""
    out = struct.pack("<IH", TNEF_SIGNATURE, 1)
    for name, data in objects:
        out += struct.pack("<BHHI", 1, name, 6, len(data)) + data
        out += struct.pack("<H", sum(data) & 0xFFFF)
    return out


def with_winmail(data: bytes, subject: str = "see attached") -> EmailMessage:
    mail = make_mail(subject=subject, body="The file is attached.")
    mail.add_attachment(data, maintype="application", subtype="ms-tnef", filename="winmail.dat")
    return mail


def corpus_winmail(name: str) -> bytes:
    (part,) = [p for p in parse((MAIL / name).read_bytes()).parts if p.filename == "winmail.dat"]
    return part.data


def count_attack() -> bytes:
    """A real winmail.dat with one changed count: 2^31 - 1 MAPI properties."""
    data = bytearray(corpus_winmail("tnef_rtf_body.eml"))
    at = data.index(struct.pack("<H", MAPI_PROPS)) - 1  # the object's level byte
    struct.pack_into("<I", data, at + 9, 0x7FFFFFFF)
    return bytes(data)


def runaway_attack() -> bytes:
    """One property whose multi-value count (2^31 - 1) tnefparse loops over without end.

    Its outer count fits the bytes, so only the time budget stops it.
    """
    props = struct.pack("<IHHI", 1, 0x1002, 0x0001, 0x7FFFFFFF) + bytes(16)
    return tnef_blob((MAPI_PROPS, props))


def test_count_attack_on_winmail_dat_keeps_mail_and_file_and_logs_nothing(caplog):
    caplog.set_level(logging.DEBUG)
    mail = parse(with_winmail(count_attack()).as_bytes())
    assert mail.text.strip() == "The file is attached."
    assert [p.filename for p in mail.parts] == ["winmail.dat"], "the file is kept as it came"
    assert not [r for r in caplog.records if r.name.startswith("tnefparse")]


def test_real_winmail_dat_still_passes_the_count_check():
    for name in ("tnef_rtf_body.eml", "tnef_html_body.eml", "tnef_winmail_dat.eml"):
        assert tnef.unpack(corpus_winmail(name)) is not None, name


def test_a_parse_over_its_budget_is_stopped_and_the_next_mail_parses(parser):
    mails = [(1, make_mail(subject="before").as_bytes()), (2, with_winmail(runaway_attack()))]
    mails += [(3, make_mail(subject="after").as_bytes())]
    results = dict(parser.parse_ahead(((k, bytes(m)) for k, m in mails), ahead=3))
    assert results[1].subject == "before" and results[3].subject == "after"
    assert isinstance(results[2], Unparseable)
    assert "intake.parse_seconds = 2 s" in str(results[2])


def test_mail_that_needs_more_memory_than_the_budget_is_refused():
    big = make_mail(subject="big")
    big.add_attachment(os.urandom(6 * 2**20), maintype="application", subtype="octet-stream")
    worker = ParseWorker(Budget(max_bytes=9 * 2**20, seconds=30, memory_bytes=2**20))
    try:
        with pytest.raises(Unparseable, match="intake.parse_memory_mb"):
            worker.parse(big.as_bytes())
        assert worker.parse(make_mail(subject="small").as_bytes()).subject == "small"
    finally:
        worker.close()


def quarantine_reasons(app) -> list[str]:
    with db.transaction(app.sessions) as session:
        return [row.reason for row in session.scalars(select(Quarantine).order_by(Quarantine.id))]


def test_runaway_attachment_over_imap_is_quarantined_and_the_queue_goes_on(mailbox, make_app):
    app = make_app(mailbox, extra="[intake]\nparse_seconds = 1\n")
    mailbox.deliver(with_winmail(runaway_attack(), "crafted"), make_mail(subject="next customer"))
    result = poller.poll_once(app)
    assert result.outcomes == {Outcome.QUARANTINED: 1, Outcome.STORED: 1}
    (reason,) = quarantine_reasons(app)
    assert "intake.parse_seconds = 1 s" in reason
    assert mailbox.count("Quarantine") == 1 and mailbox.count("Processed") == 1
    assert poller.poll_once(app).handled == 0, "a restart does not meet it again"


def test_oversized_mail_is_kept_raw_and_quarantined_with_the_reason(mailbox, make_app):
    app = make_app(mailbox, extra="[intake]\nmax_message_bytes = 4000\n")
    huge = make_mail(subject="huge", body="x" * 5000)
    mailbox.deliver(huge, make_mail(subject="small"))
    result = poller.poll_once(app)
    assert result.outcomes == {Outcome.QUARANTINED: 1, Outcome.STORED: 1}
    with db.transaction(app.sessions) as session:
        row = session.scalar(select(Quarantine))
        assert len(row.raw.data) > 4000 and b"Subject: huge" in row.raw.data, "kept whole"
        assert "over intake.max_message_bytes = 4000" in row.reason
    assert mailbox.count("Quarantine") == 1


SEEDS = {
    "tnef": [corpus_winmail(n) for n in ("tnef_rtf_body.eml", "tnef_html_body.eml")],
    "rfc822": [(MAIL / "attached_message_rfc822.eml").read_bytes()],
    "html": [b"<html><body>" + b"<div><table><tr><td>" * 40 + b"Hello &amp; bye</body></html>"],
}
FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@st.composite
def crafted_attachments(draw: st.DrawFn) -> bytes:
    """A real attachment with 4-byte counts set large, bytes flipped or cut, in a mail."""
    kind = draw(st.sampled_from(sorted(SEEDS)))
    data = bytearray(draw(st.sampled_from(SEEDS[kind])))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, max(len(data) - 4, 0)))
        action = draw(st.sampled_from(["count", "flip", "cut", "repeat"]))
        if action == "count":
            data[at : at + 4] = struct.pack("<I", draw(st.sampled_from([2**31 - 1, 2**32 - 1])))
        elif action == "flip":
            data[at] = draw(st.integers(0, 255))
        elif action == "cut":
            del data[at:]
        else:
            data[at:at] = bytes(data[at : at + 64]) * draw(st.integers(2, 200))
    mail = EmailMessage()  # built by hand: make_mail draws its Message-ID at random
    mail["From"], mail["Subject"] = "Ann Lee <ann@customer.example>", f"fuzz {kind}"
    mail.set_content("See the attachment.")
    subtype = {"tnef": ("application", "ms-tnef"), "rfc822": ("application", "octet-stream")}
    maintype, sub = subtype.get(kind, ("text", "html"))
    if kind == "rfc822":
        mail.add_attachment(bytes(data), maintype="message", subtype="rfc822")
    else:
        mail.add_attachment(bytes(data), maintype=maintype, subtype=sub, filename=f"f.{kind}")
    mail.set_boundary("fuzz-boundary")  # the stdlib would draw one at random
    return mail.as_bytes()


@FUZZ
@given(raw=crafted_attachments())
def test_crafted_attachments_are_read_or_rejected_within_the_budget(parser, raw: bytes) -> None:
    try:
        mail = parser.parse(raw)
    except Unparseable as verdict:
        assert str(verdict), "a rejection always says why"
        return
    assert isinstance(mail, Incoming) and mail.subject.startswith("fuzz")


def test_a_stream_left_midway_does_not_hand_its_answers_to_the_next_caller(parser):
    mails = ((n, make_mail(subject=f"left {n}").as_bytes()) for n in range(20))
    stream = parser.parse_ahead(mails, ahead=10)
    assert next(stream)[1].subject == "left 0"
    stream.close()
    assert parser.parse(make_mail(subject="next caller").as_bytes()).subject == "next caller"
