"""`[loops]` and `[bounces]`: their defaults, their keys, and errors that name the key."""

import re

import pytest

from maildesk import config
from maildesk.errors import ConfigError


def _parse(loops_table: dict) -> config.Config:
    return config.parse(
        {"desk": {"name": "Desk"}, "database": {"url": "sqlite://"}, "loops": loops_table}
    )


def test_defaults_are_znuny_and_zammad():
    found = config.parse({"desk": {"name": "Desk"}, "database": {"url": "sqlite://"}}).loops
    assert (found.max_per_address_per_day, found.max_per_ticket_per_hour) == (40, 25)
    assert (found.max_per_domain_per_day, found.subaddress_separator) == (500, "+")
    assert found.no_reply.search("mailer-daemon@x.example")


def test_loops_keys_are_read():
    found = _parse(
        {"max_per_address_per_day": 5, "max_per_ticket_per_hour": 1, "no_reply_regex": "^bot@"}
        | {"max_per_domain_per_day": 0, "subaddress_separator": "-"}
    ).loops
    assert (found.max_per_address_per_day, found.max_per_ticket_per_hour) == (5, 1)
    assert (found.max_per_domain_per_day, found.subaddress_separator) == (0, "-")
    assert found.no_reply.search("bot@x.example") and not found.no_reply.search("ann@x.example")
    assert _parse({"subaddress_separator": ""}).loops.subaddress_separator == ""


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"max_per_address_per_day": -1}, "loops.max_per_address_per_day: must be 0 or more"),
        ({"max_per_ticket_per_hour": "5"}, "loops.max_per_ticket_per_hour: must be int"),
        ({"max_per_ticket_per_hour": 2.5}, "loops.max_per_ticket_per_hour: must be int"),
        ({"no_reply_regex": "(unclosed"}, "loops.no_reply_regex: invalid regular expression"),
        ({"max_per_day": 5}, "loops.max_per_day: unknown key"),
        ({"max_per_domain_per_day": -1}, "loops.max_per_domain_per_day: must be 0 or more"),
        ({"subaddress_separator": "+-"}, "loops.subaddress_separator: must be one of"),
        ({"subaddress_separator": "."}, "loops.subaddress_separator: must be one of"),
        ({"subaddress_separator": 1}, "loops.subaddress_separator: must be str"),
    ],
)
def test_bad_loops_keys_are_named(table, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        _parse(table)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"return_path": "bounces"}, "bounces.return_path: 'bounces' is not a plain"),
        ({"return_path": "Bounces <b@desk.example>"}, "bounces.return_path: 'Bounces <b@"),
        ({"return_path": "b@localhost"}, "bounces.return_path: 'b@localhost' is not a plain"),
        ({"return_path": f"{'b' * 33}@desk.example"}, "is over 32 characters"),
        ({"return_path": 5}, "bounces.return_path: must be str"),
        ({"verp": True}, "bounces.verp: unknown key"),
    ],
)
def test_bad_bounces_keys_are_named(table, message):
    data = {"desk": {"name": "Desk"}, "database": {"url": "sqlite://"}, "bounces": table}
    with pytest.raises(ConfigError, match=re.escape(message)):
        config.parse(data)


def test_the_return_path_is_no_address_customers_write_to():
    data = {
        "desk": {"name": "Desk"},
        "database": {"url": "sqlite://"},
        "smtp": {"host": "h", "from_address": "Support@desk.example"},
        "bounces": {"return_path": "support@desk.example"},
    }
    with pytest.raises(
        ConfigError,
        match=re.escape("bounces.return_path: 'support@desk.example' is also smtp.from_address;"),
    ):
        config.parse(data)
