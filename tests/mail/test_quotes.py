"""Quote and signature stripping: our marker first, then client patterns. Pure."""

import time

import pytest

from maildesk.mail.forwards import FORWARDED
from maildesk.mail.payloads import html_to_text
from maildesk.mail.quotes import REPLY_MARKER, SCAN_LIMIT, strip_quotes

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


# Text that made line-anchored regexes rescan the rest of the mail from every
# line: a prefix with the words that switch the patterns on, then a unit
# repeated to the wanted size.
ADVERSARIAL = {
    "blank lines": ("Sent wrote original 写道 ____________\n", "\n"),
    "whitespace lines": ("sent wrote\n", " \t\n"),
    "From lines": ("sent\n", "From: a\n"),
    "From and blank lines": ("sent\n", "From: a\n\n\n\n\n\n\n\n"),
    "On lines": ("wrote\n", "On Monday the printer on floor 3 jams\n"),
    "quoted lines": ("", "> On Monday sent from: wrote\n>\n"),
    "long dashed lines": ("original\n", "-" * 3000 + " original message\n"),
    "one long line": ("", "From: on 写道 sent wrote "),
}


def adversarial(shape: str, size: int) -> str:
    prefix, unit = ADVERSARIAL[shape]
    return prefix + (unit * (size // len(unit) + 1))[: size - len(prefix)]


def seconds_per_call(texts: list[str], rounds: int = 5, least: float = 0.02) -> list[float]:
    """For each text, the fastest of a few rounds of calls, per call.

    Every round does about the same work (a text half as long gets twice the
    calls) and lasts at least `least` seconds, so each size is exposed alike
    to other work on the machine and the timer's noise stays out; the rounds
    take turns over the texts, and the fastest is the least disturbed.
    """
    longest = max(len(text) for text in texts)
    calls = 1
    while _round(max(texts, key=len), calls) < least:
        calls *= 2
    counts = [calls * max(longest // len(text), 1) for text in texts]
    best = [float("inf")] * len(texts)
    for _ in range(rounds):
        for i, (text, count) in enumerate(zip(texts, counts, strict=True)):
            best[i] = min(best[i], _round(text, count) / count)
    return best


def _round(text: str, calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        strip_quotes(text)
    return time.perf_counter() - start


@pytest.mark.parametrize("shape", sorted(ADVERSARIAL))
def test_stripping_time_grows_linearly(shape: str) -> None:
    # All within SCAN_LIMIT, so the search itself is timed, not the cap on it.
    sizes = (32_000, 64_000, 128_000, 256_000)
    assert sizes[-1] <= SCAN_LIMIT
    times = seconds_per_call([adversarial(shape, size) for size in sizes])
    measured = zip(sizes, times, strict=True)
    report = ", ".join(f"{size // 1000} kB {took * 1000:.2f} ms" for size, took in measured)
    # 8 times the text: linear is about 8 times the time, quadratic 64 times.
    assert times[-1] < 20 * times[0], report


@pytest.mark.parametrize("shape", sorted(ADVERSARIAL))
def test_a_megabyte_of_adversarial_quote_is_cut_at_its_intro(shape: str) -> None:
    history = adversarial(shape, 1_000_000)
    mail = f"The jam is on tray 2.\n\nOn Mon, Test Support <s@d> wrote:\n{history}\n"
    assert strip_quotes(mail) == "The jam is on tray 2."


@pytest.mark.parametrize("shape", sorted(ADVERSARIAL))
def test_an_intro_past_the_scan_limit_is_not_searched_for(shape: str) -> None:
    own = f"The jam is on tray 2.\n{adversarial(shape, 1_000_000)}"
    intro = "On Mon, Test Support <s@d> wrote:"
    new_text = strip_quotes(f"{own}\n{intro}\n{quoted(QUOTE)}\n")
    assert new_text.startswith("The jam is on tray 2.") and new_text.endswith(intro)


ASKED = "On Mon, Nov 23, 2026 at 10:00 AM Test Support <support@desk.example> wrote:"


@pytest.mark.parametrize(
    ("mail", "words"),
    [
        (
            f"{ASKED}\n> {REPLY_MARKER}\n>\n> Dear Ann,\n> which tray jams?\nTray 2.\n> Bye\n",
            "Tray 2.",
        ),
        (
            f"{ASKED}\n> Which tray?\nTray 2.\n> Which floor?\nFloor 3, room 301.\n\n"
            "> Since when?\nSince Monday.\n> Test Support\n",
            "Tray 2.\nFloor 3, room 301.\n\nSince Monday.",
        ),
        (
            "在 2026年12月1日 周一 10:00，Test Support 写道：\n> 哪个纸盒？\n二号纸盒。\n> 谢谢\n",
            "二号纸盒。",
        ),
        (f"{quoted(QUOTE)}\nTray 2.\n>\n> Sent from my iPhone\n", "Tray 2."),
    ],
    ids=["one answer", "several answers", "Chinese", "our quote only"],
)
def test_answers_inside_the_quote_are_kept(mail: str, words: str) -> None:
    assert strip_quotes(mail) == words


@pytest.mark.parametrize(
    ("forward", "subject_says_forward"),
    [
        (
            "---------- Forwarded message ---------\nFrom: HR <hr@customer.example>\n"
            "Date: Fri, 20 Nov 2026\nSubject: New hire\n\nNew hire Dana starts Monday.",
            False,
        ),
        ("-----Original Message-----\nFrom: HR\nSent: Friday\n\nNew hire Dana starts.", True),
        ("-------- 原始邮件 --------\n发件人：HR\n日期：2026年11月20日\n\n新员工周一入职。", True),
    ],
    ids=["Gmail", "Outlook", "Chinese"],
)
def test_a_note_below_a_forward_is_kept(forward: str, subject_says_forward: bool) -> None:
    mail = f"{forward}\n\nPlease set up VPN for Dana.\n\n-- \nAnn Lee\n"
    kept = f"{forward}\n\nPlease set up VPN for Dana."
    assert strip_quotes(mail, subject_says_forward) == f"{FORWARDED}\n{kept}"
    assert strip_quotes(mail) == (f"{FORWARDED}\n{kept}" if not subject_says_forward else kept)


def test_a_quoted_forward_is_kept_whole() -> None:
    mail = (
        "---------- Forwarded message ---------\n> From: HR\n> New hire Dana.\n\n"
        "Please set up VPN for Dana.\n"
    )
    assert strip_quotes(mail) == f"{FORWARDED}\n{mail.strip()}"


@pytest.mark.parametrize(
    "text",
    [
        "On Monday my colleague wrote:\nThe printer on floor 3 prints blank pages.",
        "On Monday my colleague wrote:\n\nThe printer prints blank pages.\nOn Tuesday, too.",
        "在 2026年12月1日 周一 写道：\n打印机打不出字。",
        "From: our ERP\nDate: today\nThe export fails with error 42.",
    ],
)
def test_a_sentence_like_an_intro_with_no_quote_below_is_kept(text: str) -> None:
    assert strip_quotes(f"{text}\n\nSent from my iPhone\n") == text


def test_text_below_our_unquoted_marker_is_kept_without_the_marker() -> None:
    mail = f"{REPLY_MARKER}\n\nThe jam is on tray 2.\n"
    assert strip_quotes(mail) == "The jam is on tray 2."


def test_an_answer_inside_a_megabyte_of_quote_is_kept() -> None:
    half = adversarial("quoted lines", 500_000)
    assert strip_quotes(f"{ASKED}\n{half}\nTray 2.\n{half}") == "Tray 2."


# ------------------------------------------- short replies with a signature (#11)

# A real client's reply: the customer's words, a "-- " signature, then the
# history in the client's own shape (with our marker in it, or without).
SIGNATURE = "-- \nAnn Lee\nFacilities, ACME\nTel. +86 21 5555 0100"
HISTORIES = {
    "Gmail": "On Mon, 23 Nov 2026 at 10:00, Test Support <support@desk.example> wrote:\n\n"
    + quoted(QUOTE),
    "Outlook": "-----Original Message-----\nFrom: Test Support <support@desk.example>\n"
    "Sent: Monday, November 23, 2026 10:00 AM\nTo: Ann Lee <ann@customer.example>\n"
    f"Subject: [Ticket#1] Printer jam\n\n{QUOTE}",
    "Apple Mail": "> On 23 Nov 2026, at 10:00, Test Support <support@desk.example> wrote:\n>\n"
    + quoted(QUOTE),
    "Thunderbird": "On 23/11/2026 10:00, Test Support wrote:\n" + quoted(QUOTE),
    "QQ Mail": "------------------\u00a0原始邮件\u00a0------------------\n"
    '发件人: "Test Support"<support@desk.example>;\n'
    "发送时间:\u00a02026年11月23日(星期一) 上午10:00\n"
    '收件人: "王芳"<wangfang@customer.example>;\n主题: [Ticket#1] 打印机卡纸\n\n' + QUOTE,
    "Foxmail": "在 2026年11月23日 10:00，Test Support <support@desk.example> 写道：\n"
    + quoted(QUOTE),
    "Gmail, no marker": "On Mon, 23 Nov 2026 at 10:00, Ann <a@x.example> wrote:\n"
    "> Which tray jams?\n>\n> Test Support",
    "Outlook, no marker": "________________________________\nFrom: Test Support\n"
    "Sent: Monday, November 23, 2026 10:00\nTo: Ann\n\nWhich tray jams?",
}


@pytest.mark.parametrize("history", sorted(HISTORIES))
@pytest.mark.parametrize("reply", ["Hello", "Thanks, works now", "好的，谢谢", "OK"])
def test_a_short_reply_above_a_signature_and_the_quote_is_kept(reply: str, history: str) -> None:
    mail = f"{reply}\n\n{SIGNATURE}\n\n{HISTORIES[history]}\n"
    assert strip_quotes(mail) == reply
    assert strip_quotes(mail.replace("\n", "\r\n").replace("\r\n", "\n")) == reply


@pytest.mark.parametrize(
    ("html", "reply"),
    [
        (
            '<div dir="ltr">Hello<br clear="all"><div><br></div>'
            '<span class="gmail_signature_prefix">-- </span><br>'
            '<div dir="ltr" class="gmail_signature">Ann Lee<br>Facilities, ACME</div></div><br>'
            '<div class="gmail_quote"><div dir="ltr" class="gmail_attr">On Mon, 23 Nov 2026 at '
            "10:00, Test Support &lt;support@desk.example&gt; wrote:<br></div>"
            f'<blockquote class="gmail_quote">{REPLY_MARKER}<br><br>Dear Ann,</blockquote></div>',
            "Hello",
        ),
        (
            '<html><body><p>Thanks, works now</p><div class="moz-signature">-- <br>Ann Lee'
            '<br>ACME</div><div class="moz-cite-prefix">On 23/11/2026 10:00, Test Support '
            f'wrote:<br></div><blockquote type="cite">{REPLY_MARKER}<br>Dear Ann,</blockquote>'
            "</body></html>",
            "Thanks, works now",
        ),
        (
            '<div class="WordSection1"><p class="MsoNormal">Hello</p><p class="MsoNormal">--'
            '&nbsp;</p><p class="MsoNormal">Ann Lee</p><div id="divRplyFwdMsg"><hr><b>From:</b>'
            " Test Support &lt;support@desk.example&gt;<br><b>Sent:</b> Monday, November 23, "
            f"2026 10:00 AM<br><b>To:</b> Ann</div><p>{REPLY_MARKER}</p><p>Dear Ann,</p></div>",
            "Hello",
        ),
        (
            "<div>好的，谢谢</div><div><br></div><div>--&nbsp;</div><div>王芳</div><div><br></div>"
            "<div>------------------&nbsp;原始邮件&nbsp;------------------</div><div><div>"
            '<b>发件人:</b>&nbsp;"Test Support"&lt;support@desk.example&gt;;</div><div>'
            "<b>发送时间:</b>&nbsp;2026年11月23日(星期一) 上午10:00</div></div><div><br></div>"
            f"{REPLY_MARKER}<br>Dear Ann",
            "好的，谢谢",
        ),
    ],
    ids=["Gmail", "Thunderbird", "Outlook", "QQ Mail"],
)
def test_a_signature_in_html_only_mail_converted_to_text_is_dropped(html: str, reply: str):
    # The converted text indents the delimiter ("  --") or ends it with a no-break space.
    assert strip_quotes(html_to_text(html)) == reply


@pytest.mark.parametrize("history", sorted(HISTORIES))
@pytest.mark.parametrize("signature", ["-- \nAnn Lee", "-- \nSent from my iPhone", "Ann Lee"])
def test_a_reply_that_is_only_a_signature_keeps_it_and_not_the_quote(
    signature: str, history: str
) -> None:
    assert strip_quotes(f"{signature}\n\n{HISTORIES[history]}\n") == signature


def test_a_signature_above_answers_inside_the_quote_gives_the_answers() -> None:
    mail = f"{SIGNATURE}\n\n{ASKED}\n> Which tray?\nTray 2.\n> Which floor?\nFloor 3.\n"
    assert strip_quotes(mail) == "Tray 2.\nFloor 3."


def test_a_note_below_a_signed_forward_is_kept() -> None:
    forward = (
        "---------- Forwarded message ---------\nFrom: HR <hr@customer.example>\n"
        "Date: Fri, 20 Nov 2026\nSubject: New hire\n\nNew hire Dana starts Monday.\n-- \nHR Team"
    )
    mail = f"{forward}\n\nPlease set up VPN for Dana.\n\n-- \nAnn Lee\n"
    assert strip_quotes(mail) == f"{FORWARDED}\n{forward}\n\nPlease set up VPN for Dana."


def test_a_delimiter_alone_above_the_quote_is_not_taken_for_words() -> None:
    assert strip_quotes(f"-- \n\n{quoted(QUOTE)}\n") == ""


@pytest.mark.parametrize("reply", ["👍", "?", "+++"])
def test_a_reply_without_letters_above_the_quote_is_kept_without_the_intro(reply: str):
    assert strip_quotes(f"{reply}\n\n{HISTORIES['Gmail']}\n") == reply
