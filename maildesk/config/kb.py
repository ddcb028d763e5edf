"""`[kb]`: where article files live, and how sure a match must be to be suggested."""

from pathlib import Path

from maildesk.config.settings import KbConfig
from maildesk.config.toml_table import Table
from maildesk.errors import ConfigError

DEFAULT_MIN_SCORE = 0.21
MAX_SUGGESTIONS = 3


def kb(t: Table | None) -> KbConfig:
    t = t or Table({}, "kb")
    directory = t.get("dir", str, None)
    min_score = t.get("min_score", float, DEFAULT_MIN_SCORE)
    if not 0 < min_score <= 1:
        raise ConfigError(f"{t.key('min_score')}: must be above 0 and at most 1, got {min_score}")
    suggestions = t.count("suggestions", MAX_SUGGESTIONS)
    found = KbConfig(
        dir=Path(directory) if directory else None,
        min_score=float(min_score),
        suggestions=min(suggestions, MAX_SUGGESTIONS),
    )
    t.reject_unknown()
    return found
