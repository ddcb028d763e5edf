"""commands.parse: the block of #commands at the top of an agent's reply. Pure, no fixtures."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from maildesk.desk import commands
from maildesk.desk.commands import HELP, HELP_LINE, SPECS, Command, CommandError, parse
from tests.support import fuzz


def one(line: str) -> tuple[str, str]:
    """The (name, value) of a reply holding the single command `line`."""
    (command,) = parse(f"{line}\n\nThanks,\nAnn").commands
    assert command.line == line
    return command.name, command.value


def refused(text: str) -> CommandError:
    with pytest.raises(CommandError) as caught:
        parse(text)
    assert caught.value.reason and caught.value.reason_zh
    return caught.value


# Every command, in English and in Chinese.

SAME = [
    ("#status open", "#状态 打开", ("status", "open")),
    ("#status pending", "#状态 等待", ("status", "pending")),
    ("#status resolved", "#状态 已解决", ("status", "resolved")),
    ("#status closed", "#状态 已关闭", ("status", "closed")),
    ("#priority P0", "#优先级 紧急", ("priority", "P0")),
    ("#priority p1", "#优先级 高", ("priority", "P1")),
    ("#priority P2", "#优先级 中", ("priority", "P2")),
    ("#priority P3", "#优先级 低", ("priority", "P3")),
    ("#assign me", "#指派 我", ("assign", "me")),
    ("#assign bob@desk.example", "#指派 bob@desk.example", ("assign", "bob@desk.example")),
    ("#assign Bob Li", "#分配 Bob Li", ("assign", "Bob Li")),
    ("#team Billing", "#团队 Billing", ("team", "Billing")),
    ("#tag vip", "#标签 vip", ("tag", "vip")),
    ("#note", "#备注", ("note", "")),
    ("#resolve", "#解决", ("resolve", "")),
    ("#resolve Reset the password", "#解决 Reset the password", ("resolve", "Reset the password")),
    ("#close", "#关闭", ("close", "")),
    ("#reopen", "#重开", ("reopen", "")),
    ("#merge 12", "#合并 12", ("merge", "12")),
    ("#cc ann@customer.example", "#抄送 ann@customer.example", ("cc", "ann@customer.example")),
    ("#escalate", "#升级", ("escalate", "")),
    (
        "#escalate Customer threatens to leave",
        "#升级 Customer threatens to leave",
        ("escalate", "Customer threatens to leave"),
    ),  # fmt: skip
    ("#help", "#帮助", ("help", "")),
    ("#kb", "#知识库", ("kb", "")),
    ("#kb Printer offline", "#知识库 Printer offline", ("kb", "Printer offline")),
    ("#kb publish 7", "#知识库 发布 7", ("kb", "publish 7")),
    ("#answer printer-offline", "#回复 printer-offline", ("answer", "printer-offline")),
    ("#answer 7", "#回复 7", ("answer", "7")),
]


@pytest.mark.parametrize(("english", "chinese", "expected"), SAME, ids=[s[0] for s in SAME])
def test_each_command_in_both_languages(english, chinese, expected):
    assert one(english) == expected
    assert one(chinese) == expected


def test_every_command_is_tested_in_both_languages():
    assert {name for *_, (name, _) in SAME} == set(SPECS)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("#状态 处理中", ("status", "open")),
        ("#状态 待回复", ("status", "pending")),
        ("#状态 挂起", ("status", "pending")),
        ("#状态 解决", ("status", "resolved")),
        ("#状态 关闭", ("status", "closed")),
        ("#Status RESOLVED", ("status", "resolved")),
        ("#priority urgent", ("priority", "P0")),
        ("#PRIORITY p3", ("priority", "P3")),
        ("#优先级 P1", ("priority", "P1")),
        ("#指派 自己", ("assign", "me")),
        ("#assign ME", ("assign", "me")),
        ("#重新打开", ("reopen", "")),
        ("#merge #42", ("merge", "42")),
        ("#merge 007", ("merge", "7")),
        ("#解决 已修复，请重试", ("resolve", "已修复，请重试")),
    ],
)
def test_values_in_other_words_are_canonical(line, expected):
    assert one(line) == expected


# Full-width forms, as Chinese input methods type them.


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("＃状态：已解决", ("status", "resolved")),
        ("#状态：已解决", ("status", "resolved")),
        ("#状态　已解决", ("status", "resolved")),
        ("＃优先级　紧急", ("priority", "P0")),
        ("#status: resolved", ("status", "resolved")),
        ("#status:resolved", ("status", "resolved")),
        ("#status : resolved", ("status", "resolved")),
        ("＃ｓｔａｔｕｓ　ｒｅｓｏｌｖｅｄ", ("status", "resolved")),
        ("#priority Ｐ１", ("priority", "P1")),
        ("#合并：＃１２", ("merge", "12")),
        ("#抄送：ann＠customer.example", ("cc", "ann@customer.example")),
        ("#状态已解决", ("status", "resolved")),  # a Chinese alias may run into its value
        ("#指派我", ("assign", "me")),
        ("#解决已重置密码", ("resolve", "已重置密码")),
        ("  #status   open  ", ("status", "open")),
        ("\ufeff#status open", ("status", "open")),
        ("# note", ("note", "")),
    ],
)
def test_full_width_and_loose_spacing(line, expected):
    assert one(line) == expected


def test_tags_split_on_spaces_and_commas_lowercased_without_repeats():
    assert one("#tag a b c") == ("tag", "a b c")
    assert one("#标签 退款、VIP，紧急 #vip") == ("tag", "退款 vip 紧急")
    assert one("#tag Billing, refund;  billing") == ("tag", "billing refund")


# The block and the body.


def test_no_commands_leaves_the_reply_unchanged():
    for text in ["Hello,\n\nthe fix is out.\n", "\n\n  Hi\r\n#status closed\r\n", "", "\n \n"]:
        assert parse(text) == commands.Parsed((), text)


def test_block_then_body():
    text = "\n\n#status pending\r\n\r\n#priority P1\r\n\r\nHi Ann,\r\n\r\nplease retry.\r\n"
    parsed = parse(text)
    assert parsed.commands == (
        Command("status", "pending", "#status pending"),
        Command("priority", "P1", "#priority P1"),
    )
    assert parsed.body == "Hi Ann,\r\n\r\nplease retry.\r\n"
    assert not parsed.internal


def test_hash_lines_in_the_body_are_text():
    text = "#close\nDone.\n#status open\n\n#merge abc\n"
    assert parse(text) == commands.Parsed(
        (Command("close", "", "#close"),), "Done.\n#status open\n\n#merge abc\n"
    )


def test_the_block_may_be_the_whole_reply():
    assert parse("#close\n\n").body == ""
    assert parse("#close").body == ""


def test_note_makes_the_reply_internal():
    parsed = parse("#note\n#备注\nCalled the customer, waiting for logs.")
    assert parsed.internal
    assert parsed.commands == (Command("note", "", "#note"),)
    assert parsed.body == "Called the customer, waiting for logs."


def test_repeats_are_kept_once_and_multi_commands_stay():
    parsed = parse("#status resolved\n#resolve Fixed\n#status resolved\n#cc a@x.example\n"
                   "#cc b@x.example\n#cc a@x.example\n#tag a\n#tag b")  # fmt: skip
    assert [(c.name, c.value) for c in parsed.commands] == [
        ("status", "resolved"),
        ("resolve", "Fixed"),
        ("cc", "a@x.example"),
        ("cc", "b@x.example"),
        ("tag", "a"),
        ("tag", "b"),
    ]


# All or nothing: the offending line, exactly as written.


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ("#stauts open", "unknown command #stauts"),
        ("#", "unknown command #"),
        ("#12 is a duplicate", "unknown command #12"),
        ("#状况 已解决", "unknown command #状况"),
        ("#status", "#status needs one of open|pending|resolved|closed"),
        ("#status done", "#status needs one of"),
        ("#状态 好了", "#status needs one of"),
        ("#priority P4", "#priority needs one of P0..P3"),
        ("#priority", "#priority needs one of"),
        ("#assign", "#assign needs a value"),
        ("#assign bob@", "#assign not an address"),
        ("#team", "#team needs a value"),
        ("#tag", "#tag needs a value"),
        ("#tag , ，", "#tag needs a value"),
        ("#note please keep internal", "#note takes no value"),
        ("#close now", "#close needs one of spam|duplicate"),
        ("#关闭了", "#close needs one of spam|duplicate"),
        ("#reopen 1", "#reopen takes no value"),
        ("#help me", "#help takes no value"),
        ("#merge", "#merge needs a value"),
        ("#merge abc", "#merge needs a ticket number"),
        ("#merge 0", "#merge needs a ticket number"),
        ("#merge -3", "#merge needs a ticket number"),
        ("#merge 12 13", "#merge needs a ticket number"),
        ("#merge 1234567890123", "#merge needs a ticket number"),
        ("#cc", "#cc needs a value"),
        ("#cc ann", "#cc not an address (no domain)"),
        ("#cc Ann <ann@customer.example>", "#cc not an address"),
        ("#cc a@x.example, b@x.example", "#cc not an address"),
        ("#kb publish", "#kb publish needs an article number"),
        ("#kb publish seven", "#kb publish needs an article number"),
        ("#answer", "#answer needs a value"),
    ],
)
def test_an_invalid_line_refuses_the_whole_block(bad, reason):
    written = f"  {bad}\t"
    error = refused(f"\n#status pending\r\n#tag ok\r\n{written}\r\n#close\r\n\r\nHi")
    assert error.line == written
    assert error.reason.startswith(reason)
    assert written in str(error)


def test_chinese_reasons_name_the_chinese_command():
    assert refused("#状态 好了").reason_zh.startswith("#状态 取值应为 打开|等待|已解决|已关闭")
    assert refused("#关闭 现在").reason_zh == "#关闭 取值应为 垃圾|重复"
    assert refused("#重开 现在").reason_zh == "#重开 不带参数"
    assert refused("#未知").reason_zh == "未知命令 #未知"


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("#status open\n#status closed", "#status closed"),
        ("#priority P1\n#优先级 低", "#优先级 低"),
        ("#assign me\n#assign bob@desk.example", "#assign bob@desk.example"),
        ("#merge 3\n#merge 4", "#merge 4"),
        ("#resolve Fixed\n#resolve Other", "#resolve Other"),
        ("#close\n#reopen", "#reopen"),
        ("#status pending\n#resolve", "#resolve"),
        ("#resolve\n#close", "#close"),
    ],
)
def test_contradicting_lines_refuse_the_block(text, line):
    error = refused(text)
    assert error.line == line
    assert error.reason.startswith("contradicts the earlier")
    assert text.split("\n")[0] in error.reason


def test_an_invalid_line_after_the_body_started_is_text():
    assert parse("#close\nDone.\n#stauts open").body == "Done.\n#stauts open"


# Help.


def test_help_lists_every_command_in_both_languages_one_per_line():
    lines = HELP.splitlines()
    for name, spec in SPECS.items():
        (line,) = [ln for ln in lines if ln.split()[0] == f"#{name}"]
        assert all(f"#{alias}" in line for alias in spec.zh)
        assert spec.usage in line and spec.usage_zh in line
    assert all(len(line) <= 80 for line in lines)
    assert "\n" not in HELP_LINE
    assert all(f"#{name}" in HELP_LINE and f"#{s.zh[0]}" in HELP_LINE for name, s in SPECS.items())


# Any text: either a block and a suffix of the text, or the refused line of it.

FUZZ = fuzz(300)
LINE = st.one_of(
    st.sampled_from(["", " ", "#close", "#note", "＃状态：已解决", "#tag a b", "#merge x", "#x"]),
    st.text(st.characters(codec="utf-8", exclude_characters="\n"), max_size=20),
    st.builds("#{}".format, st.text(max_size=12)),
)


@FUZZ
@given(st.lists(LINE, max_size=8))
def test_any_text_parses_to_a_suffix_or_names_its_line(lines):
    text = "\n".join(lines)
    try:
        parsed = parse(text)
    except CommandError as error:
        assert error.line in [line.removesuffix("\r") for line in lines]
        return
    assert text.endswith(parsed.body)
    assert all(c.name in SPECS and c.line in lines for c in parsed.commands)
    if not parsed.commands:
        assert parsed.body == text


@FUZZ
@given(st.text(st.characters(categories=["L"]), min_size=1, max_size=3), st.text(max_size=40))
def test_a_body_after_a_block_comes_back_unchanged(start, rest):
    body = start + rest
    parsed = parse(f"#status resolved\r\n#指派 我\r\n\r\n{body}")
    assert [c.value for c in parsed.commands] == ["resolved", "me"]
    assert parsed.body == body
