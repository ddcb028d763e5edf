"""A secret named by the config, never held in it: a file, an environment variable, or a
credential file that systemd (LoadCredential) or a container engine (secrets) put there.

The lookup, first found wins:
1. `<name>_file` when the config sets it (then nothing else is tried);
2. the environment variable `<name>_env` names, when set and not empty;
3. `$CREDENTIALS_DIRECTORY/<VARIABLE>`, systemd's credentials of the unit;
4. `/run/secrets/<VARIABLE>`, docker's and podman's secrets.
A file's value is read at each use, without its surrounding whitespace.
"""

import os
from dataclasses import dataclass
from pathlib import Path

from maildesk.config.toml_table import REQUIRED, Table
from maildesk.errors import ConfigError

CREDENTIALS_VARIABLE = "CREDENTIALS_DIRECTORY"
CONTAINER_SECRETS = Path("/run/secrets")


@dataclass(frozen=True)
class Secret:
    """A secret named by config `key`: read from `file`, else found by the name `env` (an
    environment variable, then a credential file of that name)."""

    key: str
    env: str
    file: Path | None = None
    container_secrets: Path = CONTAINER_SECRETS  # a parameter so tests can point it elsewhere

    def value(self, required: bool = True) -> str:
        found = self.lookup()
        if found is None:
            if required and self.env:  # no variable named: no secret wanted
                raise ConfigError(f"{self.key}: {self._missing()}")
            return ""
        return found[0]

    def lookup(self) -> tuple[str, str] | None:
        """(the value, where it was found), or None when no place has it."""
        if self.file is not None:
            value = _read(self.key, self.file)
            if value is None:
                raise ConfigError(f"{self.key}: no file {str(self.file)!r}")
            return value, str(self.file)
        if not self.env:
            return None
        if os.environ.get(self.env):
            return os.environ[self.env], f"environment variable {self.env}"
        for path in (folder / self.env for folder in self._folders()):
            value = _read(self.key, path)
            if value is not None:
                return value, str(path)
        return None

    def source(self) -> str:
        """Where the value comes from, for messages (never the value)."""
        found = self.lookup()
        return found[1] if found else "nowhere"

    def _missing(self) -> str:
        """Every place that was looked at, for the error when none had the secret."""
        credentials = os.environ.get(CREDENTIALS_VARIABLE)
        places = [
            f"environment variable {self.env} is not set (or empty)",
            f"no file {Path(credentials) / self.env}"
            if credentials
            else f"no ${CREDENTIALS_VARIABLE}/{self.env} (${CREDENTIALS_VARIABLE} is not set)",
            f"no file {self.container_secrets / self.env}",
        ]
        return f"{self.env} not found: " + "; ".join(places)

    def _folders(self) -> list[Path]:
        credentials = os.environ.get(CREDENTIALS_VARIABLE)
        return ([Path(credentials)] if credentials else []) + [self.container_secrets]


def secret(t: Table, name: str, default_env: object = "") -> Secret:
    """`<name>_env` or `<name>_file` of table `t`, not both. Neither: the variable
    `default_env` ("" for none; REQUIRED when one of the two must be given)."""
    file = t.file(f"{name}_file")
    env = t.get(f"{name}_env", str, None)
    if file is not None and env:
        raise ConfigError(f"{t.key(name + '_file')}: give {name}_env or {name}_file, not both")
    if file is None and env is None:
        if default_env is REQUIRED:
            raise ConfigError(f"{t.key(name + '_env')}: required key is missing (or {name}_file)")
        env = str(default_env)
    return Secret(t.key(f"{name}_file" if file else f"{name}_env"), env or "", file)


def _read(key: str, path: Path) -> str | None:
    """The file's secret; None when there is no such file (the lookup goes on), while
    one that cannot be read (its permissions) stops it, named."""
    try:
        return path.read_text(encoding="utf-8").strip()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{key}: cannot read {str(path)!r}: {exc}") from exc
