"""A secret named by the config, never held in it: an environment variable or a file."""

import os
from dataclasses import dataclass
from pathlib import Path

from maildesk.errors import ConfigError


@dataclass(frozen=True)
class Secret:
    """A secret read from the environment variable `env`, or from `file` when that is
    set (read at each use, so a rotated file needs no restart), named by config `key`."""

    key: str
    env: str
    file: Path | None = None

    def value(self, required: bool = True) -> str:
        if self.file is not None:
            try:
                return self.file.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError(f"{self.key}: cannot read {str(self.file)!r}: {exc}") from exc
        if not self.env:
            return ""
        found = os.environ.get(self.env)
        if found is None and required:
            raise ConfigError(f"{self.key}: environment variable {self.env} is not set")
        return found or ""
