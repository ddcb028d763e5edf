"""Bytes → text when the declared charset is a subset, a wrong label, or missing.

Mail clients label GBK text as gb2312 and Big5-HKSCS text as big5, so those
labels decode with their supersets. A label that fails, a Latin label on
bytes that are really UTF-8 or CJK, and a missing label are settled by
charset-normalizer over the charsets our customers write in; only then do we
decode with replacement characters. Callers keep the raw bytes regardless.
"""

import codecs

from charset_normalizer import from_bytes

SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "euc-cn": "gb18030",
    "big5": "big5hkscs",
    "x-big5": "big5hkscs",
    "cp950": "big5hkscs",
    "ks_c_5601-1987": "cp949",
    "euc-kr": "cp949",
    "iso-2022-jp": "iso2022_jp_ext",
    "csiso2022jp": "iso2022_jp_ext",
    "shift_jis": "cp932",
    "x-sjis": "cp932",
    "windows-874": "cp874",
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "us-ascii": "utf-8",
    "ascii": "utf-8",
    "utf8": "utf-8",
}

# Tried by detection, in order of preference when two fit equally well.
CANDIDATES = (
    "utf_8",
    "gb18030",
    "big5hkscs",
    "cp932",
    "euc_jp",
    "iso2022_jp",
    "cp1252",
    "cp1251",
    "koi8_r",
    "cp1250",
    "cp949",
)
_MULTIBYTE_PREFIXES = ("utf", "gb", "big5", "cp93", "cp94", "cp95", "euc", "iso2022", "shift")
# Below this many non-ASCII bytes detection is a guess; a Latin label that decodes stands.
_MIN_EVIDENCE = 12
# CP50221 (what Windows sends as ISO-2022-JP) puts NEC symbols such as ① in
# JIS X 0208's empty row 13; JIS X 0213 has them at the same code points.
_JIS_X_0208 = b"\x1b$B"
_JIS_X_0213 = b"\x1b$(Q"


def effective_charset(declared: str | None) -> str | None:
    """The codec to use for a declared label, or None if Python does not know it."""
    if not declared:
        return None
    label = declared.strip().strip('"').lower()
    label = SUPERSETS.get(label, label)
    try:
        return codecs.lookup(label).name
    except (LookupError, ValueError):
        return None


def decode_bytes(data: bytes, declared: str | None) -> str:
    """Decode by the declared charset; detect when it is wrong or missing."""
    if data.isascii() and b"\x1b" not in data:
        return data.decode("ascii")
    codec = effective_charset(declared) or _sniff(data)
    text = _strict(data, codec) if codec else None  # never without a codec
    if codec and text is not None and _is_multibyte(codec):
        return text
    utf8 = _strict(data, "utf-8")
    if utf8 is not None:
        return utf8
    if codec and text is not None and not _garbled(data, codec):
        return text
    return _detect(data) or data.decode(codec or "utf-8", errors="replace")


def _sniff(data: bytes) -> str | None:
    """Unlabelled 7-bit Japanese mail is recognisable by its escape sequences."""
    return "iso2022_jp_ext" if _JIS_X_0208 in data or b"\x1b(J" in data else None


def _strict(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except UnicodeDecodeError as error:
        if codec.startswith("iso2022_jp") and _JIS_X_0208 in data:
            return _strict(data.replace(_JIS_X_0208, _JIS_X_0213), "iso2022_jp_2004")
        if error.reason == "unexpected end of data":
            return data[: error.start].decode(codec, errors="replace") + "\ufffd"
        return None


def _is_multibyte(codec: str) -> bool:
    return codec.startswith(_MULTIBYTE_PREFIXES)


def _garbled(data: bytes, codec: str) -> bool:
    """A single-byte label decodes anything; it is wrong when the result reads as noise."""
    if sum(byte > 0x7F for byte in data) < _MIN_EVIDENCE:
        return False
    return from_bytes(data, cp_isolation=[codec]).best() is None


def _detect(data: bytes) -> str | None:
    """charset-normalizer over CANDIDATES; ties go to the earlier candidate."""
    results = list(from_bytes(data, cp_isolation=list(CANDIDATES)))
    if not results:
        return None
    best = min(
        results,
        key=lambda r: (round(r.chaos, 2), -round(r.coherence, 2), _rank(r.encoding)),
    )
    return str(best)


def _rank(encoding: str) -> int:
    name = codecs.lookup(encoding).name
    ranked = [codecs.lookup(c).name for c in CANDIDATES]
    return ranked.index(name) if name in ranked else len(ranked)
