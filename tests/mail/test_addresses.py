"""addresses.deliverable: which sender addresses may get automatic mail. Pure, no fixtures."""

import re
from email.utils import getaddresses, parseaddr

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maildesk.mail.addresses import deliverable, mailbox, masked, pattern, same_address
from maildesk.mail.plaintext import is_control

GOOD = [
    "ann@customer.example",
    "o'brien+orders@shop.example",
    "a.b.c@sub.domain.example",
    "x!#$%&*/=?^_`{|}~-@x.example",
    "张伟@例子.中国",
    "dīpak@münchen.de",
    "ann@xn--mnchen-3ya.de",
    "a@a-b.example",
    "1@2.example",
    f"{'a' * 64}@{'b' * 63}.example",
]

BAD = [
    ('"x,victim@target.test"@attacker.test', "a quoted local part"),
    ('"ann"@customer.example', "a quoted local part"),
    ('"a b"@customer.example', "a quoted local part"),
    ("a@x.example, b@y.example", "more than one address"),
    ("a,b@x.example", "more than one address"),
    ("Ann <ann@customer.example>", "angle brackets"),
    ("<ann@customer.example>", "angle brackets"),
    ("ann@customer.example\r\nBcc: v@target.test", "a control character or line break"),
    ("ann\x00@customer.example", "a control character or line break"),
    ("ann@customer\u200b.example", "a control character or line break"),
    ("ann\u202e@customer.example", "a control character or line break"),
    ("ann\u2028@customer.example", "a control character or line break"),
    ("a b@customer.example", "white space"),
    ("ann@customer.example ", "white space"),
    ("", "no address"),
    ("ann", "no domain"),
    ("ann@", "no domain"),
    ("@customer.example", "a local part that is not a dot-atom"),
    ("a..b@customer.example", "a local part that is not a dot-atom"),
    (".ann@customer.example", "a local part that is not a dot-atom"),
    ("ann.@customer.example", "a local part that is not a dot-atom"),
    ("a(comment)@customer.example", "a local part that is not a dot-atom"),
    ("a@b@customer.example", "a local part that is not a dot-atom"),
    (f"{'a' * 65}@customer.example", "a local part over 64 bytes"),
    (f"ann@{'b' * 250}.example", "over 254 bytes"),
    ("ann@localhost", "a domain that is not a hostname"),
    ("ann@[192.0.2.1]", "a domain that is not a hostname"),
    ("ann@192.0.2.1", "a domain that is not a hostname"),
    ("ann@-x.example", "a domain that is not a hostname"),
    ("ann@x-.example", "a domain that is not a hostname"),
    ("ann@x_y.example", "a domain that is not a hostname"),
    ("ann@x..example", "a domain that is not a hostname"),
    ("ann@x.example.", "a domain that is not a hostname"),
    (f"ann@{'b' * 64}.example", "a domain that is not a hostname"),
    ("ann@ex\uff0eample.test", "a domain that is not a hostname"),
]


@pytest.mark.parametrize("address", GOOD)
def test_plain_addresses_are_deliverable(address):
    assert deliverable(address) is None


@pytest.mark.parametrize(("address", "reason"), BAD)
def test_other_shapes_are_refused_with_their_reason(address, reason):
    assert deliverable(address) == reason


RARE = '"(),:;<>@[]. \t\r\n\x00\u200b\u2028'
LOCAL = st.from_regex(r"[a-z0-9+'_张ī-]{1,8}(\.[a-z0-9]{1,4}){0,2}", fullmatch=True)
DOMAIN = st.from_regex(r"([a-z0-9张]([a-z0-9-]{0,4}[a-z0-9])?\.){1,3}example", fullmatch=True)


@st.composite
def near_addresses(draw: st.DrawFn) -> str:
    """A plain address with up to two odd characters put in anywhere."""
    address = f"{draw(LOCAL)}@{draw(DOMAIN)}"
    for _ in range(draw(st.integers(0, 2))):
        at = draw(st.integers(0, len(address)))
        address = address[:at] + draw(st.sampled_from(RARE)) + address[at:]
    return address


addresses = st.one_of(st.text(max_size=40), near_addresses())


@settings(max_examples=500, deadline=None, derandomize=True, database=None)
@given(address=addresses)
def test_a_deliverable_address_reads_as_itself_everywhere(address):
    """What passes is one address that every parser (ours, aiosmtplib's) reads unchanged."""
    if deliverable(address) is not None:
        return
    assert parseaddr(address) == ("", address)
    assert getaddresses([address]) == [("", address)]
    assert address.count("@") == 1 and address.split(",") == [address]
    assert not any(is_control(ch) or ch.isspace() for ch in address)


# mailbox: what the loop budget counts.


@pytest.mark.parametrize(
    ("address", "separator", "counted"),
    [
        ("victim+1@target.test", "+", "victim@target.test"),
        ("victim+2@target.test", "+", "victim@target.test"),
        ("VICTIM@Target.TEST", "+", "victim@target.test"),
        ("Victim+a+b@target.test", "+", "victim@target.test"),
        ("victim+1@target.test", "", "victim+1@target.test"),
        ("victim-news@target.test", "-", "victim@target.test"),
        ("victim-news@target.test", "+", "victim-news@target.test"),
        ("+only@target.test", "+", "+only@target.test"),
        ("ann@münchen.de", "+", "ann@xn--mnchen-3ya.de"),
        ("ann@XN--MNCHEN-3YA.DE", "+", "ann@xn--mnchen-3ya.de"),
        ("ann@MÜNCHEN.de", "+", "ann@xn--mnchen-3ya.de"),
        ("ann@target.test.", "+", "ann@target.test"),
        ("ＡＮＮ@target.test", "+", "ann@target.test"),
        ("张伟+1@例子.中国", "+", "张伟@xn--fsqu00a.xn--fiqs8s"),
        ("no-domain", "+", "no-domain"),
    ],
)
def test_mailbox_folds_case_sub_address_and_idn(address, separator, counted):
    assert mailbox(address, separator) == counted


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(address=near_addresses(), extension=st.from_regex(r"[a-z0-9]{0,6}", fullmatch=True))
def test_every_sub_address_and_case_of_a_mailbox_counts_as_it(address, extension):
    local, _at, domain = address.rpartition("@")
    base = mailbox(address)
    assert mailbox(f"{local}+{extension}@{domain}") == base
    assert mailbox(address.upper()) == mailbox(address.lower())


@pytest.mark.parametrize(
    ("one", "other", "same"),
    [
        ("ann@shop.example", "ann@SHOP.Example", True),
        ("ann@bücher.example", "ann@xn--bcher-kva.example", True),
        ("ann@shop.example", "Ann@shop.example", False),  # the local part is the server's
        ("ann@shop.example", "ann@shop.example.org", False),
        ("ann", "ann", False),
    ],
)
def test_same_address_folds_the_domain_only(one, other, same):
    assert same_address(one, other) is same
    found = re.fullmatch(pattern(one), other) is not None
    assert found is (same and "xn--" not in other)


@pytest.mark.parametrize(
    ("reply", "logged"),
    [
        (
            "550 5.1.1 <ann.lee+x@Shop.example>: no such user",
            "550 5.1.1 <…@Shop.example>: no such user",
        ),
        ("{'a@b.example': (450, 'busy')}", "{'…@b.example': (450, 'busy')}"),
        ("recipients bo@x.example, 张伟@例子.cn", "recipients …@x.example, …@例子.cn"),
        ("421 4.7.0 try again later", "421 4.7.0 try again later"),
    ],
)
def test_masked_keeps_only_the_domains_of_addresses_in_a_text(reply, logged):
    assert masked(reply) == logged
