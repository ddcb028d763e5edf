"""Quote and signature stripping: our marker first, then client patterns. Pure."""

import pytest

from maildesk.quotes import REPLY_MARKER, strip_quotes

QUOTE = f"{REPLY_MARKER}\n\nDear Ann,\nwe opened ticket [Ticket#1].\n\nTest Support"


def quoted(text: str, prefix: str = "> ") -> str:
    return "\n".join(prefix + line for line in text.split("\n"))


@pytest.mark.parametrize(
    "intro",
    [
        "On Mon, Nov 23, 2026 at 10:00 AM Test Support <support@desk.example> wrote:",
        "On Mon, Nov 23, 2026 at 10:00 AM Test Support <\nsupport@desk.example> wrote:",
        "On 23 Nov 2026, at 10:00, Test Support <support@desk.example> wrote:",
        "Am 23.11.2026 um 10:00 schrieb Test Support <support@desk.example>:",
        "Le lun. 23 nov. 2026 à 10:00, Test Support <support@desk.example> a écrit :",
        '在 2026-11-23 10:00:00，"Test Support" <support@desk.example> 写道：',
        "Test Support <support@desk.example> 于2026年11月23日周一 10:00写道：",
        "-----Original Message-----\nFrom: Test Support\nSent: Monday, November 23, 2026 10:00",
        "________________________________\nFrom: Test Support <support@desk.example>\n"
        "Sent: Monday, November 23, 2026 10:00\nTo: Ann\nSubject: [Ticket#1] Printer",
        '------------------\u00a0原始邮件\u00a0------------------\n发件人: "Test Support";\n'
        "发送时间:\u00a02026年11月23日(星期一) 上午10:00",
        '------------------ Original ------------------\nFrom: "Test Support";',
        "发件人： Test Support\n发送时间： 2026-11-23 10:00\n收件人： ann\n主题： [Ticket#1]",
        "*From:* Test Support <support@desk.example>\n*Sent:* Monday, November 23, 2026",
    ],
)
def test_client_intro_above_our_marker_is_cut(intro: str) -> None:
    for quote in (quoted(QUOTE), QUOTE):
        mail = f"The jam is on tray 2.\n\n{intro}\n\n{quote}\n"
        assert strip_quotes(mail) == "The jam is on tray 2."


@pytest.mark.parametrize(
    "history",
    [
        "On Fri, Nov 20, 2026 at 5:12 PM HR <hr@customer.example> wrote:\n> New hire Dana.",
        "-----Original Message-----\nFrom: HR\nSent: Friday\n\nNew hire Dana.",
        "From: HR <hr@customer.example>\nDate: Fri, 20 Nov 2026\nSubject: x\n\nNew hire Dana.",
        "---------- Forwarded message ---------\nFrom: HR\n\nNew hire Dana.",
        "-------- 原始邮件 --------\n发件人：HR\n\nNew hire Dana.",
    ],
)
def test_client_patterns_cut_when_our_marker_is_absent(history: str) -> None:
    assert strip_quotes(f"Please set up VPN.\n\n{history}\n") == "Please set up VPN."


def test_text_far_above_our_marker_is_never_cut_by_a_lookalike() -> None:
    own = "Log:\nFrom: cron@erp\nDate: today\n" + "\n".join(f"line {i}" for i in range(10))
    mail = f"{own}\n\nOn Mon, Test Support <s@d> wrote:\n{quoted(QUOTE)}"
    assert strip_quotes(mail) == own


def test_signature_and_mobile_footer_are_dropped() -> None:
    mail = "Model HL-2270DW.\n\nSent from my iPhone\n\n-- \nAnn Lee\nACME\n"
    assert strip_quotes(mail) == "Model HL-2270DW."
    assert strip_quotes("Bitte prüfen.\n\n发自我的iPhone\n") == "Bitte prüfen."


def test_trailing_gt_quote_without_intro_is_dropped() -> None:
    assert strip_quotes("Thanks!\n\n> earlier text\n>\n> more\n") == "Thanks!"


def test_bottom_posted_answer_below_the_quote_is_kept() -> None:
    mail = f"{quoted(QUOTE)}\n\nFixed by a restart.\n"
    assert strip_quotes(mail) == "Fixed by a restart."


def test_interleaved_answers_are_kept() -> None:
    mail = "> Which tray?\nTray 2.\n> Which floor?\nFloor 3.\n"
    assert strip_quotes(mail) == "> Which tray?\nTray 2.\n> Which floor?\nFloor 3."


def test_mail_without_any_quote_is_unchanged() -> None:
    text = "Line one.\n\nLine two -- with dashes.\nOn Monday it broke."
    assert strip_quotes(text) == text


def test_only_a_quote_gives_empty_text() -> None:
    assert strip_quotes(quoted(QUOTE)) == ""


def test_intro_right_above_the_marker_is_cut_even_after_a_look_alike_far_above():
    own = "\n".join(
        ["Our mail gateway logs:", "From: gateway", "Sent: 09:00", ""]
        + [f"detail line {n}" for n in range(10)]
    )
    text = (
        f"{own}\n\nFrom: Test Support <support@desk.example>\nSent: Monday\n"
        f"To: ann@customer.example\n\n{REPLY_MARKER}\nDear Ann, ...\n"
    )
    new_text = strip_quotes(text)
    assert new_text.startswith("Our mail gateway logs:") and "detail line 9" in new_text
    assert "Test Support" not in new_text
