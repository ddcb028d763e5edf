"""The commands an agent puts at the top of a reply: `#status resolved`, `#指派 我`, ... Pure.

Agents steer tickets from their mail client: one command per line in a block at
the top of the reply (leading blank lines skipped, blank lines inside allowed).
The first other line starts the body; a `#word` line in the body is only text.
Every line starting with `#` belongs to the block, so a mistyped `# note` fails
loudly instead of reaching the customer. Chinese input methods type full-width
`＃`, `：`, spaces and letters: read as ASCII. Chinese aliases may run into their
value (`#状态已解决`). All or nothing: one bad line raises `CommandError` with the
line as written, so the caller quotes it with `HELP` and applies nothing.
Whether an agent, team or ticket exists is the caller's question (the database);
values here are canonical: English names, statuses, priorities P0..P3.
"""

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from maildesk.mail.addresses import deliverable
from maildesk.mail.plaintext import is_control


@dataclass(frozen=True)
class Command:
    """One valid command line: canonical `name` and `value` ("" when it takes none)."""

    name: str  # "status", "priority", "assign", ...
    value: str  # "resolved", "P1", "me", "a@b.example", "12", "vip urgent" (tags), ""
    line: str  # as the agent wrote it, for events and error mails


@dataclass(frozen=True)
class Parsed:
    """The commands of a reply, in order, and the text after their block."""

    commands: tuple[Command, ...]
    body: str  # the whole text, unchanged, when the reply has no commands

    @property
    def internal(self) -> bool:
        """A #note was given: the reply is kept as an internal note, nothing goes out."""
        return any(c.name == "note" for c in self.commands)


class CommandError(ValueError):
    """A line of the block is not a valid command; nothing of the block may be applied."""

    def __init__(self, line: str, reason: str, reason_zh: str) -> None:
        super().__init__(f"{reason}: {line}")
        self.line = line  # exactly as written, without its line ending
        self.reason = reason
        self.reason_zh = reason_zh


class _Invalid(Exception):
    """A reader's refusal of a value, in English and Chinese; parse adds the line."""


def _nfkc(value: str) -> str:
    return unicodedata.normalize("NFKC", value)


def _words(table: dict[str, str]) -> dict[str, str]:
    """{canonical: "alias alias"} as {casefolded word: canonical}, the canonical included."""
    return {w.casefold(): c for c, words in table.items() for w in (c, *words.split())}


STATUSES = _words({"open": "打开 处理中 开启", "pending": "等待 待回复 挂起",
                   "resolved": "已解决 解决", "closed": "已关闭 关闭"})  # fmt: skip
CLOSE_REASONS = _words({"spam": "垃圾 垃圾邮件", "duplicate": "重复 dup"})
PRIORITIES = _words({"P0": "紧急 urgent", "P1": "高 high", "P2": "中 normal medium",
                     "P3": "低 low"})  # fmt: skip


def _choice(table: dict[str, str], en: str, zh: str) -> Callable[[str], str]:
    """A reader of one word of `table` (English or Chinese, any case or width)."""

    def read(value: str) -> str:
        if _nfkc(value).casefold() not in table:
            raise _Invalid(f"needs one of {en}", f"取值应为 {zh}")
        return table[_nfkc(value).casefold()]

    return read


def _close_reason(value: str) -> str:
    """Why a ticket closes, if said: spam and duplicates get no survey, and reports know."""
    return _choice(CLOSE_REASONS, "spam|duplicate", "垃圾|重复")(value) if value else ""


def _nothing(value: str) -> str:
    if value:
        raise _Invalid("takes no value", "不带参数")
    return ""


def _text(value: str) -> str:
    if not value:
        raise _Invalid("needs a value", "缺少参数")
    return value


def _address(value: str) -> str:
    address = _nfkc(_text(value))
    why = deliverable(address)
    if why is not None:
        raise _Invalid(f"not an address ({why})", f"不是有效的邮箱地址（{why}）")
    return address


def _assignee(value: str) -> str:
    if _nfkc(_text(value)).casefold() in ("me", "我", "自己"):
        return "me"
    return _address(value) if "@" in _nfkc(value) else value


def _number(value: str) -> str:
    digits = _nfkc(_text(value)).removeprefix("#")
    if not re.fullmatch(r"[0-9]{1,12}", digits) or int(digits) == 0:
        raise _Invalid("needs a ticket number", "应为工单号")
    return str(int(digits))


PUBLISH_WORDS = ("publish", "发布")


def _kb(value: str) -> str:
    """`#kb [title]` saves the answer as a draft; `#kb publish N` is "publish N"."""
    first, _, rest = _nfkc(value).partition(" ")
    if first.casefold() not in PUBLISH_WORDS:
        return value
    number = rest.strip().removeprefix("#")
    if not re.fullmatch(r"[0-9]{1,12}", number) or int(number) == 0:
        raise _Invalid("publish needs an article number", "发布需要文章编号")
    return f"publish {int(number)}"


def _tags(value: str) -> str:
    words = (w.lstrip("#").casefold() for w in re.split(r"[\s,;、]+", _nfkc(value)))
    tags = dict.fromkeys(w for w in words if w)  # ordered, without repeats
    return " ".join(_text(" ".join(tags)).split())


@dataclass(frozen=True)
class _Spec:
    zh: tuple[str, ...]  # Chinese aliases; the first is shown in help and reasons
    read: Callable[[str], str]  # raw value -> canonical value, or _Invalid
    single: bool  # may appear once (twice only with the same value)
    usage: str
    usage_zh: str


_STATUS = ("open|pending|resolved|closed", "打开|等待|已解决|已关闭")
_PRIORITY = ("P0..P3", "P0..P3|紧急|高|中|低")
SPECS: dict[str, _Spec] = {
    "status": _Spec(("状态",), _choice(STATUSES, *_STATUS), True, *_STATUS),
    "priority": _Spec(("优先级",), _choice(PRIORITIES, *_PRIORITY), True, *_PRIORITY),
    "assign": _Spec(("指派", "分配"), _assignee, True, "<email or name>|me", "<邮箱或姓名>|我"),
    "team": _Spec(("团队",), _text, True, "<name>", "<团队名>"),
    "tag": _Spec(("标签",), _tags, False, "<word>...", "<标签>..."),
    "note": _Spec(("备注",), _nothing, True, "(whole reply internal)", "（整封回复仅内部可见）"),
    "resolve": _Spec(("解决",), str, True, "[summary]", "[解决说明]"),
    "close": _Spec(("关闭",), _close_reason, True, "[spam|duplicate]", "[垃圾|重复]"),
    "reopen": _Spec(("重开", "重新打开"), _nothing, True, "", ""),
    "merge": _Spec(("合并",), _number, True, "<ticket number>", "<工单号>"),
    "cc": _Spec(("抄送",), _address, False, "<address>", "<邮箱地址>"),
    "escalate": _Spec(("升级",), str, True, "[reason]", "[原因]"),
    "kb": _Spec(("知识库",), _kb, True, "[title] | publish <N>", "[标题] | 发布 <编号>"),
    "answer": _Spec(("回复",), _text, True, "<article slug or N>", "<文章名或编号>"),
    "help": _Spec(("帮助",), _nothing, True, "(this list)", "（本列表）"),
}
ALIASES: dict[str, str] = {a: n for n, s in SPECS.items() for a in (n, *s.zh)}
_RUN_ON = sorted((a for a in ALIASES if not a.isascii()), key=len, reverse=True)
# The status a command sets: two lines setting different ones contradict each other.
_SETS_STATUS = {"resolve": "resolved", "close": "closed", "reopen": "open"}
_LINE = re.compile(r"[#＃] ?([^ :：]*) ?[:：]? ?(.*)")


def _usage(name: str, spec: _Spec) -> str:
    zh = " ".join(f"#{a}" for a in spec.zh)
    return f"#{name} {spec.usage}".rstrip() + f"  /  {zh} {spec.usage_zh}".rstrip()


HELP = "\n".join(
    [
        "Commands, one per line at the top of your reply, before any other text:",
        *(_usage(n, s) for n, s in SPECS.items()),
        "命令写在回复最上方，每行一条，其他文字之前；可用全角 ＃、冒号和空格。",
    ]
)
HELP_LINE = "Reply commands, one per line at the top: " + " ".join(
    [*(f"#{n}" for n in SPECS), "| 中文:", *(f"#{s.zh[0]}" for s in SPECS.values())]
)


def _flat(line: str) -> str:
    """The line with control and format characters (BOM, zero-width space) as spaces,
    runs of white space (full-width too) as one space, and no spaces at the ends."""
    return " ".join("".join(" " if is_control(ch) else ch for ch in line).split())


def _read(line: str) -> Command:
    match = _LINE.fullmatch(_flat(line))
    assert match is not None  # parse passes lines starting with # only
    word, value = match.groups()
    name = ALIASES.get(_nfkc(word).casefold())
    if name is None:
        alias = next((a for a in _RUN_ON if word.startswith(a)), None)
        if alias is None:
            raise CommandError(line, f"unknown command #{word}", f"未知命令 #{word}")
        name, value = ALIASES[alias], f"{word[len(alias) :]} {value}".strip()
    spec = SPECS[name]
    try:
        return Command(name, spec.read(value.strip()), line)
    except _Invalid as refusal:
        en, zh = refusal.args
        raise CommandError(line, f"#{name} {en}", f"#{spec.zh[0]} {zh}") from None


def _sets(command: Command) -> str | None:
    """The status a command sets, if it sets one."""
    return command.value if command.name == "status" else _SETS_STATUS.get(command.name)


def _clash(earlier: Command, later: Command) -> bool:
    """One command given twice with different values, or two lines setting two statuses."""
    if earlier.name == later.name and SPECS[later.name].single:
        return earlier.value != later.value
    return None not in (_sets(earlier), _sets(later)) and _sets(earlier) != _sets(later)


def _check(commands: list[Command]) -> tuple[Command, ...]:
    """The commands without repeats; CommandError on the first line that clashes."""
    kept: dict[tuple[str, str], Command] = {}
    for command in commands:
        first = next((c.line.strip() for c in kept.values() if _clash(c, command)), None)
        if first is not None:
            reason, reason_zh = f"contradicts the earlier {first!r}", f"与前面的 {first!r} 矛盾"
            raise CommandError(command.line, reason, reason_zh)
        kept.setdefault((command.name, command.value), command)
    return tuple(kept.values())


def parse(text: str) -> Parsed:
    """The command block at the top of `text` and the body after it; CommandError if
    any line of the block is invalid. Blank lines between the block and the body go."""
    lines = text.split("\n")
    start = next((i for i, line in enumerate(lines) if _flat(line)), len(lines))
    if start == len(lines) or _flat(lines[start])[0] not in "#＃":
        return Parsed((), text)
    end = start
    while end < len(lines) and (_flat(lines[end]) or "#")[0] in "#＃":
        end += 1  # past command lines and blank lines
    block = (line.removesuffix("\r") for line in lines[start:end])
    commands = [_read(line) for line in block if _flat(line)]
    return Parsed(_check(commands), "\n".join(lines[end:]))
