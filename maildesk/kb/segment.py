"""The words of a text for matching, English and Chinese alike: jieba's one home.

Chinese has no spaces, so each run of Han characters is cut into words by
jieba (its dictionary and, for words it lacks, its HMM). Its precise mode is
used: the search mode's shorter words inside longer ones (打印机 also as 打印,
印机) counted one thing three times, and let a mail about a smoking printer
match the article on an offline one (bench/kb_eval.py). Latin words are
folded (NFKC, case) and their common English endings taken off, so
"printers" finds "printer". Words that say nothing about the problem
(the, please, 请问, 我们) are left out.

jieba loads its dictionary (about half a second) on the first Chinese text a
process sees, not at import.
"""

import logging
import re
import unicodedata
from functools import cache
from types import ModuleType

_RUNS = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+|[a-z0-9]+(?:['’][a-z]+)?")
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def _listed(text: str) -> frozenset[str]:
    return frozenset(text.split())


_ENGLISH_STOP = _listed(
    """a about above after again all also am an and any are as at be been before being
    but by can could did do does doing done for from get got had has have having he her
    here hi hello him his how i if in into is it its just me my myself no nor not now of
    off on once only or other our out over own please same she should so some such than
    thank thanks that the their them then there these they this those to too under until
    up very was we were what when where which while who why will with would you your
    dear regards best kind help need want tried try trying still anyone someone something
    know let us today yesterday"""
)
_CHINESE_STOP = _listed(
    """的 了 是 我 你 您 他 她 它 们 我们 你们 在 和 与 及 也 都 就 还 又 吗 呢 吧 啊 呀
    请 请问 谢谢 感谢 麻烦 一下 一个 这个 那个 这样 那样 怎么 怎么办 如何 为什么 什么
    可以 能 能够 会 要 想 需要 有 没有 没 不 很 非常 已经 现在 今天 昨天 时候 问题 情况
    帮忙 帮 帮助 你好 您好 大家 一直 还是 但是 因为 所以 如果 然后 之后 的话 一些 这里 那里
    到 把 被 让 给 对 从 向 上 下 中 里 后 前 时 个 次 下午 上午 晚上 早上"""
)
_ENDINGS = ("ational", "ization", "fulness", "ousness", "iveness", "ements", "ations",
            "ation", "ement", "ments", "ings", "ness", "ment", "able", "ible", "ies",
            "ing", "ied", "ers", "ed", "er", "es", "ly", "s")  # fmt: skip
_MIN_STEM = 3


def words(text: str) -> list[str]:
    """The words of `text` that can tell one problem from another, in order, repeats kept."""
    found: list[str] = []
    for run in _RUNS.findall(unicodedata.normalize("NFKC", text).casefold()):
        if _HAN.match(run):
            found += (w for w in _cut(run) if len(w) > 1 and w not in _CHINESE_STOP)
        elif run not in _ENGLISH_STOP and not run.isdigit():
            found.append(_stem(run.replace("’", "'").partition("'")[0]))
    return found


def _stem(word: str) -> str:
    """`word` without one common English ending, when enough of it is left."""
    for ending in _ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= _MIN_STEM:
            stem = word[: -len(ending)]
            return stem[:-1] if len(stem) > _MIN_STEM and stem[-1] == stem[-2] else stem
    return word


def _cut(run: str) -> list[str]:
    return _tokenizer().lcut(run, HMM=True)


@cache
def _tokenizer() -> ModuleType:
    """jieba with its dictionary, loaded once per process on the first Chinese text (jieba
    locks it), start-up lines quiet; not at import, which every command would pay for."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba
