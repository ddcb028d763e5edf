"""Bytes → text when the declared charset is a subset, a wrong label, or missing.

Mail clients label GBK text as gb2312 and Big5-HKSCS text as big5, so those
labels decode with their supersets; a label that fails is replaced by what
charset-normalizer detects, and only then do we decode with replacement.
"""

import codecs

from charset_normalizer import from_bytes

SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "euc-cn": "gb18030",
    "big5": "big5hkscs",
    "ks_c_5601-1987": "cp949",
    "euc-kr": "cp949",
    "iso-2022-jp": "iso2022_jp_ext",
    "shift_jis": "cp932",
    "windows-874": "cp874",
    "iso-8859-1": "cp1252",
    "us-ascii": "utf-8",
    "ascii": "utf-8",
}


def effective_charset(declared: str | None) -> str | None:
    """The codec to use for a declared label, or None if Python does not know it."""
    if not declared:
        return None
    label = declared.strip().strip('"').lower()
    label = SUPERSETS.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def decode_bytes(data: bytes, declared: str | None) -> str:
    """Decode by the declared charset; detect when it is wrong or missing."""
    codec = effective_charset(declared)
    for candidate in (codec, "utf-8"):
        if candidate:
            try:
                return data.decode(candidate)
            except UnicodeDecodeError:
                pass
    best = from_bytes(data).best()
    if best is not None:
        return str(best)
    return data.decode(codec or "utf-8", errors="replace")
