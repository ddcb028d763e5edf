"""Signed Message-IDs and the subject tag."""

from maildesk.mail import ids
from maildesk.mail.ids import make_message_id, ticket_number
from maildesk.mail.keys import Keys
from maildesk.mail.subject_tag import SubjectTag


def test_signed_id_round_trip_and_forgery():
    message_id = make_message_id(Keys(("k" * 20,)), 42, "desk.example")
    assert ticket_number(Keys(("k" * 20,)), message_id) == 42
    assert ticket_number(Keys(("other-secret-xxxx",)), message_id) is None
    forged = message_id.replace("<md.42.", "<md.43.")
    assert ticket_number(Keys(("k" * 20,)), forged) is None
    assert ticket_number(Keys(("k" * 20,)), "<random@example.com>") is None


def test_subject_tag_is_ours_only():
    tag = SubjectTag("[Ticket#{number}]")
    assert tag.format(7) == "[Ticket#7]"
    assert tag.find("Re: AW: [Ticket#7] printer") == 7
    assert tag.find("Re: [ticket# 12 ] lower case") == 12
    assert tag.find("Re: [RT #12] other system") is None
    assert tag.find("[issue12]") is None
    assert SubjectTag("工单{number}号").find("回复：工单15号") == 15


def test_an_id_bound_to_an_agent_names_them_and_no_one_else():
    keys = Keys(("s" * 20,))
    mine = ids.make_message_id(keys, 42, "desk.example", recipient="Lin@Desk.example")
    found = ids.signed(keys, mine)
    assert found == ids.Signed(42, ids.recipient_tag("s" * 20, "lin@desk.example"))
    assert found.bound_to("lin@desk.example") and not found.bound_to("wang@desk.example")
    other_tag = ids.recipient_tag("s" * 20, "wang@desk.example")
    forged = mine.replace(found.recipient, other_tag)
    assert ids.signed(keys, forged) is None, "a tag cannot be swapped under the HMAC"
    assert ids.signed(Keys(("t" * 20,)), mine) is None, "another instance's secret"
    unbound = ids.make_message_id(keys, 42, "desk.example")
    assert ids.signed(keys, unbound) == ids.Signed(42, None)
    assert not ids.signed(keys, unbound).bound_to("lin@desk.example")


def test_ids_signed_before_a_rotation_check_with_their_old_key():
    old, new = "old-secret-0123456789", "new-secret-0123456789"
    before = ids.make_message_id(Keys((old,)), 7, "desk.example", recipient="ann@shop.example")
    rotated = Keys((new, old))
    found = ids.signed(rotated, before)
    assert found is not None and found.number == 7 and found.bound_to("ann@shop.example")
    after = ids.make_message_id(rotated, 7, "desk.example", recipient="ann@shop.example")
    assert ids.signed(Keys((new,)), after) is not None, "new ids are signed with the first"
    assert ids.signed(Keys((old,)), after) is None
    assert ids.signed(Keys((new,)), before) is None, "the old key dropped: the old id is not ours"
