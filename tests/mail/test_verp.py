"""verp: the signed return path of each outbox mail, and reading it back. Pure, no fixtures."""

import pytest

from maildesk.mail import verp
from maildesk.mail.addresses import MAX_LOCAL, deliverable
from maildesk.mail.keys import Keys

KEYS = Keys(("test-secret-0123456789abcdef",))
RETURN_PATH = "bounces@desk.example"
ANN = ("ann@customer.example",)


def test_the_return_path_names_the_mail_under_a_mac_and_reads_back():
    sender = verp.envelope_sender(RETURN_PATH, KEYS, 1234567, ANN)
    local, _at, domain = sender.rpartition("@")
    assert domain == "desk.example" and local.startswith("bounces+")
    assert deliverable(sender) is None and sender == sender.lower()
    token = verp.found(RETURN_PATH, ["support@desk.example", sender])
    assert token is not None and token.outbox_id == 1234567
    assert verp.checks(KEYS, token, ANN)


def test_a_case_folding_server_keeps_the_token_valid():
    sender = verp.envelope_sender(RETURN_PATH, KEYS, 42, ANN)
    token = verp.found(RETURN_PATH, [sender.upper()])
    assert token is not None and verp.checks(KEYS, token, ANN)


def _other_mac(sender: str) -> str:
    local, _at, domain = sender.rpartition("@")
    return f"{local[:-1]}{'1' if local[-1] == '0' else '0'}@{domain}"


def _other_id(sender: str) -> str:
    return sender.replace("bounces+", "bounces+1")


@pytest.mark.parametrize("change", [_other_id, _other_mac])
def test_an_edited_token_does_not_check(change):
    forged = change(verp.envelope_sender(RETURN_PATH, KEYS, 42, ANN))
    token = verp.found(RETURN_PATH, [forged])
    assert token is not None and not verp.checks(KEYS, token, ANN)


def test_the_mac_covers_the_only_recipient_and_the_secret():
    token = verp.found(RETURN_PATH, [verp.envelope_sender(RETURN_PATH, KEYS, 7, ANN)])
    assert not verp.checks(KEYS, token, ("bob@customer.example",))
    assert not verp.checks(Keys(("another-secret-0123456789",)), token, ANN)
    two = ("ann@customer.example", "bob@customer.example")
    shared = verp.found(RETURN_PATH, [verp.envelope_sender(RETURN_PATH, KEYS, 7, two)])
    assert verp.checks(KEYS, shared, two) and not verp.checks(KEYS, shared, ANN)


@pytest.mark.parametrize(
    "address",
    [
        "bounces@desk.example",
        "support@desk.example",
        "bounces+nonsense@desk.example",
        "bounces+1-0123456789abcdef@other.example",
        "bouncesx+1-0123456789abcdef@desk.example",
        "not an address",
    ],
)
def test_other_addresses_carry_no_token(address):
    assert verp.found(RETURN_PATH, [address]) is None


def test_the_return_path_with_or_without_a_token_is_ours():
    assert verp.is_return_path(RETURN_PATH, "Bounces@Desk.Example")
    assert verp.is_return_path(RETURN_PATH, "bounces+anything@desk.example")
    assert not verp.is_return_path(RETURN_PATH, "support@desk.example")
    assert not verp.is_return_path(None, "bounces@desk.example")


def test_a_return_path_with_a_sub_address_of_its_own():
    return_path = "support+bounces@desk.example"
    sender = verp.envelope_sender(return_path, KEYS, 9, ANN)
    assert sender.startswith("support+bounces+")
    assert verp.found(return_path, [sender]).outbox_id == 9


def test_the_longest_token_fits_a_local_part_after_a_32_character_local():
    sender = verp.envelope_sender(f"{'b' * 32}@desk.example", KEYS, 2**63 - 1, ANN)
    assert len(sender.partition("@")[0]) <= MAX_LOCAL and deliverable(sender) is None


def test_envelope_addresses_come_from_the_headers_servers_write():
    headers = {
        "to": ("Support <support@desk.example>",),
        "delivered-to": ("bounces+1-abc@desk.example",),
        "x-original-to": ("x@desk.example",),
        "envelope-to": ("y@desk.example",),
        "cc": ("not@counted.example",),
    }
    assert verp.envelope_addresses(headers) == [
        "support@desk.example",
        "bounces+1-abc@desk.example",
        "x@desk.example",
        "y@desk.example",
    ]


def test_a_return_path_signed_before_a_rotation_still_checks():
    old = verp.found(RETURN_PATH, [verp.envelope_sender(RETURN_PATH, KEYS, 5, ANN)])
    rotated = Keys(("the-new-secret-0123456789", *KEYS.all))
    assert old is not None and verp.checks(rotated, old, ANN)
    new = verp.found(RETURN_PATH, [verp.envelope_sender(RETURN_PATH, rotated, 5, ANN)])
    assert new is not None and not verp.checks(KEYS, new, ANN), "signed with the first key"
