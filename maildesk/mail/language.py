"""Which locale to answer in: Chinese if the customer wrote Chinese, else the default."""

import re

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_KANA = re.compile(r"[\u3040-\u30ff]")


def detect_locale(text: str, default: str) -> str:
    """'zh' when Han characters (and no Japanese kana) appear in the text."""
    if _HAN.search(text) and not _KANA.search(text):
        return "zh"
    return default
