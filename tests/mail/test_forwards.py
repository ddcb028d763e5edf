"""A forward is new content: the forwarded mail stays in the new text, marked (#18 class 3)."""

import pytest

from maildesk.mail.forwards import FORWARDED, is_forward
from maildesk.mail.quotes import REPLY_MARKER, strip_quotes

ERROR_MAIL = "From: Billing <billing@vendor.example>\nDate: Fri, 20 Nov 2026 09:00\n"
ERROR_MAIL += "Subject: Payment failed\n\nYour payment of invoice 4711 failed: card declined."

FORWARDS = {
    "Gmail": "---------- Forwarded message ---------\n" + ERROR_MAIL,
    "Gmail in Chinese": "---------- 转发的邮件 ---------\n" + ERROR_MAIL,
    "Apple Mail": "Begin forwarded message:\n\n" + ERROR_MAIL,
    "iOS in Chinese": "开始转发的邮件：\n\n" + ERROR_MAIL,
    "Thunderbird": "-------- Forwarded Message --------\n" + ERROR_MAIL,
    "Yahoo": "----- Forwarded Message -----\n" + ERROR_MAIL,
    "NetEase 163": "-------- 转发邮件信息 --------\n" + ERROR_MAIL,
    "Lotus Notes": "----- Forwarded by Ann Lee/ACME on 11/23/2026 10:00 AM -----\n\n" + ERROR_MAIL,
}
# Forwarded under the block a reply has too: only the subject tells.
HEADER_BLOCKS = {
    "Outlook": "-----Original Message-----\n" + ERROR_MAIL.replace("Date:", "Sent:"),
    "OWA": "________________________________\n" + ERROR_MAIL.replace("Date:", "Sent:"),
    "QQ Mail": "------------------ 原始邮件 ------------------\n发件人: billing\n"
    "发送时间: 2026年11月20日\n主题: 付款失败\n\n发票 4711 付款失败。",
    "QQ Mail, &nbsp; left in": "------------------&nbsp;原始邮件&nbsp;------------------\n"
    "发件人: billing\n发送时间: 2026年11月20日\n\n发票 4711 付款失败。",
    "Outlook in Chinese": "发件人: billing@vendor.example\n发送时间: 2026年11月20日 9:00\n"
    "收件人: ann\n主题: 付款失败\n\n发票 4711 付款失败。",
}


@pytest.mark.parametrize("client", sorted(FORWARDS))
def test_a_forward_in_words_is_kept_whatever_the_subject(client: str) -> None:
    mail = f"Please see below.\n\n-- \nAnn Lee\n\n{FORWARDS[client]}\n"
    expected = f"Please see below.\n\n{FORWARDED}\n{FORWARDS[client]}"
    assert strip_quotes(mail) == expected
    assert strip_quotes(mail, forward=True) == expected


@pytest.mark.parametrize("client", sorted(HEADER_BLOCKS))
def test_a_header_block_under_a_forward_subject_is_kept(client: str) -> None:
    mail = f"Please see below.\n\n{HEADER_BLOCKS[client]}\n"
    assert (
        strip_quotes(mail, forward=True)
        == f"Please see below.\n\n{FORWARDED}\n" + (HEADER_BLOCKS[client])
    )
    assert strip_quotes(mail) == "Please see below.", "a reply's history"


def test_a_forward_above_our_quoted_marker_is_kept_and_the_history_cut() -> None:
    mail = (
        f"Here is the error mail.\n\n{FORWARDS['Gmail']}\n\n"
        f"On Mon, Test Support <support@desk.example> wrote:\n> {REPLY_MARKER}\n> Dear Ann\n"
    )
    assert strip_quotes(mail) == f"Here is the error mail.\n\n{FORWARDED}\n{FORWARDS['Gmail']}"


def test_history_inside_the_forwarded_mail_is_part_of_it() -> None:
    forward = f"{FORWARDS['Gmail']}\n\nOn Thu, Bob <bob@vendor.example> wrote:\n> earlier"
    assert strip_quotes(f"FYI\n\n{forward}\n") == f"FYI\n\n{FORWARDED}\n{forward}"


def test_a_forward_with_nothing_above_it_is_the_new_text() -> None:
    assert strip_quotes(FORWARDS["Apple Mail"]) == f"{FORWARDED}\n{FORWARDS['Apple Mail']}"


@pytest.mark.parametrize(
    ("subject", "forward"),
    [
        ("Fwd: Payment failed", True),
        ("FW: Payment failed", True),
        ("Fw: Re: outage", True),
        ("WG: Rechnung", True),
        ("TR: facture", True),
        ("RV: factura", True),
        ("转发：付款失败", True),
        ("转发: 付款失败", True),
        ("[Ticket#3] FW: error", True),
        ("Re: Fwd: Payment failed", False),
        ("RE: [Ticket#3] FW: error", False),
        ("回复：转发：付款失败", False),
        ("Forward planning for Q3", False),
        ("Payment failed", False),
    ],
)
def test_the_first_prefix_of_the_subject_says_forward(subject: str, forward: bool) -> None:
    assert is_forward(subject) is forward
