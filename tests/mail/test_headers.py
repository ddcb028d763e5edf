"""headers.sender: the address the parser sees, never one picked out of several. Pure."""

import pytest

from maildesk.mail.addresses import deliverable
from maildesk.mail.headers import ADDRESS_COLUMN, sender


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ({"from": ["Ann Lee <Ann@Customer.Example>"]}, ("Ann Lee", "ann@customer.example")),
        (
            {"from": ["=?utf-8?Q?Lee=2C_Ann?= <ann@customer.example>"]},
            ("Lee, Ann", "ann@customer.example"),
        ),
        (
            {"from": ['"x,victim@target.test"@attacker.test']},
            ("", '"x,victim@target.test"@attacker.test'),
        ),
        (
            {"from": ["Ann <ann@customer.example>, Bob <bob@other.example>"]},
            ("Ann, Bob", "ann@customer.example, bob@other.example"),
        ),
        (
            {"from": ["ann@customer.example", "bob@other.example"]},
            ("", "ann@customer.example, bob@other.example"),
        ),
        ({"from": ["Lee, Ann <ann@customer.example>"]}, ("Ann", "ann@customer.example")),
        ({"from": ["ann@customer.example,"]}, ("", "ann@customer.example")),
        (
            {"from": ["undisclosed-recipients:;"], "sender": ["Desk <desk@customer.example>"]},
            ("Desk", "desk@customer.example"),
        ),
        (
            {"from": ["nobody"], "return-path": ["<rp@customer.example>"]},
            ("", "rp@customer.example"),
        ),
        ({"return-path": ["<>"]}, ("", "")),
    ],
)
def test_sender(written, expected):
    assert sender(written) == expected


@pytest.mark.parametrize(
    "value",
    [
        '"x,victim@target.test"@attacker.test',
        "Ann <ann@customer.example>, Bob <bob@other.example>",
        "Ann <ann@customer.example> <bob@other.example>",
        "ann@customer.example bob@other.example",
    ],
)
def test_a_from_header_that_is_not_one_plain_address_is_refused(value):
    assert deliverable(sender({"from": [value]})[1]) is not None


def test_a_from_header_of_many_addresses_fits_the_address_column_and_is_refused():
    many = ", ".join(f"person{n}@customer.example" for n in range(50))
    address = sender({"from": [many]})[1]
    assert len(address) == ADDRESS_COLUMN and deliverable(address) is not None
