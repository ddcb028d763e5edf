"""Reply templates: Jinja2 in a sandbox over files admins edit.

A template is `<dir>/<locale>/<name>.txt.j2`: the first line is
`Subject: ...`, then a blank line, then the body. Rendering is sandboxed and
strict (an unknown variable is an error, not an empty string), so a typo in a
template is caught by `templates check` rather than mailed to a customer.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined
from jinja2 import TemplateError as JinjaError
from jinja2.sandbox import SandboxedEnvironment

from maildesk.errors import TemplateError

SUFFIX = ".txt.j2"


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str


def default_dir() -> Path:
    """templates/ shipped in the wheel, else the one at the top of a checkout."""
    package = Path(__file__).parent.parent  # maildesk/
    packaged = package / "templates"
    return packaged if packaged.is_dir() else package.parent / "templates"


class Templates:
    """Finds, renders and checks templates in one directory tree."""

    def __init__(self, directory: Path | None, default_locale: str) -> None:
        self.directory = directory or default_dir()
        self.default_locale = default_locale
        self.env = SandboxedEnvironment(
            loader=FileSystemLoader(str(self.directory)),
            undefined=StrictUndefined,
            keep_trailing_newline=True,
            autoescape=False,
        )

    def path_for(self, name: str, locale: str) -> str:
        """The template path, falling back to the default locale, then English."""
        for candidate in (locale, self.default_locale, "en"):
            relative = f"{candidate}/{name}{SUFFIX}"
            if (self.directory / relative).is_file():
                return relative
        raise TemplateError(
            f"template {name!r} not found for locale {locale!r} in {self.directory}"
        )

    def render(self, name: str, locale: str, context: dict[str, Any]) -> Rendered:
        relative = self.path_for(name, locale)
        try:
            output = self.env.get_template(relative).render(**context)
        except JinjaError as exc:
            raise TemplateError(f"{relative}: {exc}") from exc
        return split_subject(relative, output)


def split_subject(relative: str, output: str) -> Rendered:
    """Separate the `Subject:` first line from the body."""
    first, _, body = output.partition("\n")
    if not first.lower().startswith("subject:"):
        raise TemplateError(f"{relative}: first line must be 'Subject: ...'")
    return Rendered(subject=first[len("subject:") :].strip(), text=body.lstrip("\n"))
