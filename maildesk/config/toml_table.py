"""Typed reading of one TOML table, whose every error names the full key and the reason."""

import re
from pathlib import Path
from typing import Any, Literal, overload

from maildesk.errors import ConfigError

REQUIRED = object()


class Table:
    """A TOML table that remembers its dotted path and which keys were read."""

    def __init__(self, data: Any, path: str) -> None:
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: must be a table, got {type(data).__name__}")
        self.data = data
        self.path = path
        self.used: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def get(self, name: str, kind: type | tuple[type, ...], default: Any = REQUIRED):
        self.used.add(name)
        if name not in self.data:
            if default is REQUIRED:
                raise ConfigError(f"{self.key(name)}: required key is missing")
            return default
        value = self.data[name]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if float in kinds and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kinds) or (bool not in kinds and isinstance(value, bool)):
            want = " or ".join(k.__name__ for k in kinds)
            raise ConfigError(
                f"{self.key(name)}: must be {want}, got {type(value).__name__} {value!r}"
            )
        return value

    def choice(self, name: str, choices: tuple[str, ...], default: Any = REQUIRED):
        value = self.get(name, str, default)
        if value not in choices:
            raise ConfigError(f"{self.key(name)}: {value!r} is not one of {', '.join(choices)}")
        return value

    @overload
    def regex(self, name: str, required: Literal[True]) -> re.Pattern[str]: ...
    @overload
    def regex(self, name: str, required: bool = False) -> re.Pattern[str] | None: ...
    def regex(self, name: str, required: bool = False) -> re.Pattern[str] | None:
        text = self.get(name, str) if required else self.get(name, str, None)
        if text is None:
            return None
        try:
            return re.compile(text)
        except re.error as exc:
            raise ConfigError(f"{self.key(name)}: invalid regular expression: {exc}") from exc

    def port(self, default: int) -> int:
        port = self.get("port", int, default)
        if not 0 < port < 65536:
            raise ConfigError(f"{self.key('port')}: {port} is not a TCP port")
        return port

    def listen(self, name: str) -> str | None:
        """A `host:port` to listen on, or None when the key is not set."""
        value = self.get(name, str, None)
        if value is not None:
            host, _, port = value.rpartition(":")
            if not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise ConfigError(f"{self.key(name)}: {value!r} is not host:port")
        return value

    def file(self, name: str) -> Path | None:
        """An optional file name: a typo is told at load, not at first use."""
        value = self.get(name, str, None)
        if value is None:
            return None
        if not Path(value).is_file():
            raise ConfigError(f"{self.key(name)}: no file {value!r}")
        return Path(value)

    def positive(self, name: str, default: float) -> float:
        value = self.get(name, float, default)
        if value <= 0:
            raise ConfigError(f"{self.key(name)}: must be greater than 0, got {value}")
        return value

    def count(self, name: str, default: int) -> int:
        value = self.get(name, int, default)
        if value < 0:
            raise ConfigError(f"{self.key(name)}: must be 0 or more, got {value}")
        return value

    @overload
    def table(self, name: str, required: Literal[True] = True) -> "Table": ...
    @overload
    def table(self, name: str, required: bool) -> "Table | None": ...
    def table(self, name: str, required: bool = True) -> "Table | None":
        self.used.add(name)
        if name not in self.data:
            if required:
                raise ConfigError(f"{self.key(name)}: required section is missing")
            return None
        return Table(self.data[name], self.key(name))

    def reject_unknown(self) -> None:
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            raise ConfigError(f"{self.key(unknown[0])}: unknown key")
