"""No mail can stall the parser: crafted TNEF, runaway parses, memory, fuzzed attachments.

The parse runs in a child with a size, time and memory budget (sandbox/worker.py);
a mail past it is rejected with the reason and the next one parses in a fresh
child. Processes only: no database, no network.
"""

import logging
import os
import struct
from email.message import EmailMessage

import pytest
from hypothesis import given
from hypothesis import strategies as st

from maildesk.mail import tnef
from maildesk.mail.message import Incoming, parse
from maildesk.sandbox.worker import Budget, ParseWorker, Unparseable
from tests.conftest import CORPUS, make_mail
from tests.mail.crafted import corpus_winmail, count_attack, runaway_attack, with_winmail
from tests.support import fuzz


def test_count_attack_on_winmail_dat_keeps_mail_and_file_and_logs_nothing(caplog):
    tnef.quiet_library()  # as the parse child does when it starts (and app.start_up)
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


def test_a_runaway_mail_amid_many_in_flight_blames_only_that_mail(parser):
    """The child killed on mail 3 had written results for 0-2 and had 4-11 queued."""
    mails = [(n, make_mail(subject=f"mail {n}").as_bytes()) for n in range(12)]
    mails[3] = (3, bytes(with_winmail(runaway_attack())))
    results = list(parser.parse_ahead(mails, ahead=12))
    assert [key for key, _ in results] == list(range(12)), "in order"
    verdicts = {key: str(r) for key, r in results if isinstance(r, Unparseable)}
    assert verdicts == {3: "parsing took over intake.parse_seconds = 2 s"}
    subjects = [r.subject for key, r in results if key != 3]
    assert subjects == [f"mail {n}" for n in range(12) if n != 3]


def test_a_child_that_dies_between_mails_blames_no_mail(parser):
    assert parser.parse(make_mail(subject="first").as_bytes()).subject == "first"
    parser._child.process.kill()  # as the OOM killer would, while it waits for mail
    assert parser.parse(make_mail(subject="second").as_bytes()).subject == "second"


def test_mails_larger_than_the_pipe_come_back_whole_and_in_order(parser):
    data = os.urandom(3 * 2**20)  # over the pipe's 1 MiB, either way
    big = make_mail(subject="big")
    big.add_attachment(data, maintype="application", subtype="octet-stream", filename="a.bin")
    mails = [(n, make_mail(subject=f"small {n}").as_bytes()) for n in range(40)]
    mails.insert(20, ("big", big.as_bytes()))
    results = dict(parser.parse_ahead(mails, ahead=41))
    assert [p.data for p in results.pop("big").parts] == [data]
    assert [r.subject for r in results.values()] == [f"small {n}" for n in range(40)]


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


SEEDS = {
    "tnef": [corpus_winmail(n) for n in ("tnef_rtf_body.eml", "tnef_html_body.eml")],
    "rfc822": [(CORPUS / "attached_message_rfc822.eml").read_bytes()],
    "html": [b"<html><body>" + b"<div><table><tr><td>" * 40 + b"Hello &amp; bye</body></html>"],
}
FUZZ = fuzz(60)


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
