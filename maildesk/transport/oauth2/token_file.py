"""The token file of a delegated flow: the newest refresh token, written by
`maildesk oauth login` and by each refresh that hands out a new one.

Written whole to a temporary file of mode 0600 and renamed over the old one,
so a crash never leaves half a token and no other user can read it.
"""

import json
import os
import tempfile
from pathlib import Path

from maildesk.errors import ConfigError


def read(path: Path, key: str) -> str:
    """The refresh token kept at `path`; "" when there is no file yet."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return ""
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{key}: cannot read {str(path)!r}: {exc}") from exc
    token = data.get("refresh_token") if isinstance(data, dict) else None
    if not isinstance(token, str):
        raise ConfigError(f"{key}: {str(path)!r} holds no refresh_token")
    return token


def write(path: Path, refresh_token: str, key: str) -> None:
    try:
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        with os.fdopen(fd, "w", encoding="utf-8") as f:  # mkstemp made it 0600
            json.dump({"refresh_token": refresh_token}, f)
        os.replace(temporary, path)
    except OSError as exc:
        raise ConfigError(f"{key}: cannot write {str(path)!r}: {exc}") from exc


def stamp(path: Path | None) -> int | None:
    """When the file last changed (None: no file); a new login shows as a new stamp."""
    try:
        return path.stat().st_mtime_ns if path is not None else None
    except FileNotFoundError:
        return None
