"""Import sources: the streaming mbox reader agrees with the stdlib's."""

import mailbox

from maildesk.intake import prefetch, sources
from maildesk.intake.sources import RawMail
from maildesk.mail.message import Incoming
from maildesk.sandbox.worker import Unparseable
from tests.conftest import make_mail


def test_streaming_mbox_matches_stdlib(tmp_path):
    path = tmp_path / "a.mbox"
    box = mailbox.mbox(path)
    box.add(make_mail(subject="one", body="From here on it is quoted by the writer.\n"))
    box.add(make_mail(subject="two", body="line\n\nFrom the blank line above: escaped.\n"))
    box.add(make_mail(subject="three"))
    box.close()
    reference = mailbox.mbox(path)
    try:
        expected = [reference.get_bytes(key) for key in reference.iterkeys()]
    finally:
        reference.close()
    assert list(sources.mbox_messages(path)) == expected
    assert [m.label for m in sources.read(path)] == [f"{path}#{i}" for i in range(3)]


def test_crlf_mbox_and_unknown_count(tmp_path):
    path = tmp_path / "crlf.mbox"
    path.write_bytes(
        b"From a@b Mon Nov 23 10:00:00 2026\r\nSubject: x\r\n\r\nbody\r\n\r\n"
        b"From c@d Mon Nov 23 10:01:00 2026\r\nSubject: y\r\n\r\nbody 2\r\n"
    )
    assert list(sources.mbox_messages(path)) == [
        b"Subject: x\r\n\r\nbody\r\n",
        b"Subject: y\r\n\r\nbody 2\r\n",
    ]
    assert sources.count(path) is None


def test_prefetch_keeps_order_and_gives_bad_mail_its_reason(parser):
    items = [RawMail(str(n), make_mail(subject=f"s{n}").as_bytes()) for n in range(10)]
    items.insert(3, RawMail("bad", b"\x01\x02 not a mail"))
    batches = list(prefetch.parsed_batches(parser, iter(items), size=4, ahead=3))
    results = [pair for batch in batches for pair in batch]
    assert [len(batch) for batch in batches] == [4, 4, 3]
    assert [item.label for item, _ in results] == [item.label for item in items]
    assert isinstance(results[3][1], Unparseable) and "no headers found" in str(results[3][1])
    parsed = [mail.subject for _, mail in results if isinstance(mail, Incoming)]
    assert parsed == [f"s{n}" for n in range(10)]
