"""`contacts export`: one person's tickets, mails and events as JSON, and their mails as an
mbox (read back with the standard library's `mailbox`): raw bytes while they are kept,
rebuilt from the stored text once `[retention]` removed them."""

import json
import mailbox

import pytest

from maildesk.daemon.turns import Turns
from maildesk.views.contact_export import REBUILT
from tests.conftest import maildesk_in_process
from tests.desk.sla.desk import agent_answers, agent_does, customer_writes
from tests.support import desk_toml

ANN = "Ann Lee <ann@shop.example>"
HERS = ("passport.pdf", b"%PDF Ann's passport scan")


def export(tmp_path, folder: str):
    done = maildesk_in_process(
        "contacts", "export", "ann@SHOP.example", "--out", str(tmp_path / folder),
        config=tmp_path / "maildesk.toml",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    exported = json.loads((tmp_path / folder / "contact.json").read_text(encoding="utf-8"))
    return exported, list(mailbox.mbox(tmp_path / folder / "mail.mbox"))


@pytest.mark.parametrize("database_kind", ["sqlite"])
def test_export_holds_her_mails_and_not_bobs(make_app, clock, tmp_path) -> None:
    app = make_app(extra=desk_toml() + "\n[retention]\nraw_mail_days = 30\n")
    number = customer_writes(app, subject="Printer on fire", sender=ANN, attach=HERS)
    agent_answers(app, number, "Please unplug it, Ann.")
    customer_writes(app, subject="Invoice", sender="Bob <bob@other.example>", body="Bob's own")

    data, mails = export(tmp_path, "first")

    assert data["addresses"] == ["ann@shop.example"]
    assert [(t["number"], t["role"]) for t in data["tickets"]] == [(number, "customer")]
    texts = [m["full_text"] for m in data["messages"]]
    assert any("My printer is on fire." in t for t in texts)
    assert any("Please unplug it, Ann." in t for t in texts)
    assert not any("Bob's own" in t for t in texts)
    assert [a["filename"] for m in data["messages"] for a in m["attachments"]] == ["passport.pdf"]
    assert "opened" in [e["kind"] for e in data["events"]]
    hers = [m for m in mails if "ann@shop.example" in m["From"]]
    assert len(hers) == 1 and hers[0][REBUILT] is None  # her own bytes
    assert any(part.get_filename() == "passport.pdf" for part in hers[0].walk())
    assert len(mails) == len(data["messages"])
    assert not any("Bob's own" in m.as_string() for m in mails)

    agent_does(app, number, "#status closed")
    clock.advance(days=31)
    Turns(app).run_now("retention")
    _, mails = export(tmp_path, "after")

    rebuilt = [m for m in mails if "ann@shop.example" in m["From"]]
    assert rebuilt[0][REBUILT] and "My printer is on fire." in rebuilt[0].get_payload()
    again = maildesk_in_process(
        "contacts", "export", "ann@shop.example", "--out", str(tmp_path / "after"),
        config=tmp_path / "maildesk.toml",
    )  # fmt: skip
    assert again.returncode == 2 and "not empty" in again.stderr
