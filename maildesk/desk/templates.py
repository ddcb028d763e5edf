"""Reply templates: Jinja2 in a sandbox over files admins edit.

A template is `<dir>/<locale>/<name>.txt.j2`: the first line is
`Subject: ...`, then a blank line, then the body. A `<name>.html.j2` beside
it adds an HTML alternative (its values HTML-escaped). Rendering is sandboxed and
strict (an unknown variable is an error, not an empty string), so a typo in a
template is caught by `templates check` rather than mailed to a customer.

Two trees: the shipped one, and the admin's (`[desk] templates_dir`), which
overrides it file by file. Edits are picked up without a restart (Jinja checks
each file's mtime). An admin's file that fails at send time never blocks the
mail: the shipped file is rendered instead and the failure is kept in
`problems`, once per file and error, for notify to tell the admins.
"""

import logging
import os
import threading
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from jinja2 import (
    FileSystemLoader,
    PrefixLoader,
    StrictUndefined,
    TemplateSyntaxError,
    meta,
    nodes,
)
from jinja2 import TemplateError as JinjaError
from jinja2.sandbox import SandboxedEnvironment

from maildesk.errors import TemplateError

SUFFIX = ".txt.j2"
HTML_SUFFIX = ".html.j2"  # optional, beside the text: the mail's HTML alternative
ADMIN, SHIPPED = "admin", "shipped"  # the origins, first wins
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str | None = None


@dataclass(frozen=True)
class Problem:
    """What is wrong with one file, as editors and `templates check` print it."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


def default_dir() -> Path:
    """templates/ shipped in the wheel, else the one at the top of a checkout."""
    package = Path(__file__).parent.parent  # maildesk/
    packaged = package / "templates"
    return packaged if packaged.is_dir() else package.parent / "templates"


class Templates:
    """Finds, renders and checks templates: the admin's tree over the shipped one.

    A file is named to Jinja as `<origin>/<locale>/<name>.txt.j2`, so the
    shipped file stays at hand when the admin's fails.
    """

    def __init__(
        self, directory: Path | None, default_locale: str, shipped: Path | None = None
    ) -> None:
        roots = {ADMIN: directory, SHIPPED: shipped or default_dir()}
        self.roots = {origin: root for origin, root in roots.items() if root is not None}
        self.default_locale = default_locale
        self.env = SandboxedEnvironment(
            loader=PrefixLoader({o: FileSystemLoader(str(r)) for o, r in self.roots.items()}),
            undefined=StrictUndefined,
            keep_trailing_newline=True,
            autoescape=lambda file: bool(file and file.endswith(HTML_SUFFIX)),
            auto_reload=True,  # an edited file is compiled again on its next use
        )
        self.problems: list[Problem] = []  # not yet told; `drain` hands them over
        self._seen: set[Problem] = set()
        self._lock = threading.Lock()  # the daemon renders from several threads

    def find(self, name: str, locale: str, origins: tuple[str, ...] = (ADMIN, SHIPPED)) -> str:
        """The file that wins, falling back to the default locale, then English; in each
        locale the admin's file before the shipped one."""
        for candidate in dict.fromkeys((locale, self.default_locale, "en")):
            for origin in (o for o in origins if o in self.roots):
                file = f"{origin}/{candidate}/{name}{SUFFIX}"
                if self.path(file).is_file():
                    return file
        where = " or ".join(str(self.roots[o]) for o in origins if o in self.roots)
        raise TemplateError(f"template {name!r} not found for locale {locale!r} in {where}")

    def path(self, file: str) -> Path:
        """The real path of `<origin>/<locale>/<name>.txt.j2`."""
        origin, _, relative = file.partition("/")
        return self.roots[origin] / relative

    def files(self) -> list[str]:
        """Every `<origin>/<locale>/<name>.txt.j2` of both trees."""
        return [f for f in self.env.list_templates() if f.endswith(SUFFIX) and f.count("/") == 2]

    def render(self, name: str, locale: str, context: dict[str, Any]) -> Rendered:
        """The winning file rendered; the shipped one when the admin's fails (recorded)."""
        file = self.find(name, locale)
        if file.startswith(f"{ADMIN}/"):
            try:
                return self._render(file, context)
            except Exception as exc:  # noqa: BLE001 - an admin's edit must never block mail
                self._record(self._problem(file, exc))
                file = self.find(name, locale, (SHIPPED,))
        try:
            return self._render(file, context)
        except (JinjaError, TemplateError) as exc:
            raise TemplateError(f"{self.path(file)}: {exc}") from exc

    def render_text(self, source: str, context: dict[str, Any], name: str) -> str:
        """`source` (an article's body) rendered in the same sandbox as the templates, strict;
        TemplateError names `name` and what failed."""
        try:
            return self.env.from_string(source).render(**context)
        except JinjaError as exc:
            raise TemplateError(f"{name}: {type(exc).__name__}: {exc}") from exc

    def drain(self) -> list[Problem]:
        """The problems not told yet; each is handed over once."""
        with self._lock:
            found, self.problems = self.problems, []
        return found

    def check(self, samples: Mapping[str, Mapping[str, Any]]) -> list[Problem]:
        """Every file of both trees parsed and rendered against its sample context
        (`samples` by template name); a file whose name is not there is a problem too."""
        problems: list[Problem] = []
        for file in self.files():
            name = file.rpartition("/")[2].removesuffix(SUFFIX)
            if name in samples:
                problems += self._check(file, samples[name])
            else:
                known = ", ".join(sorted(samples))
                problems.append(
                    Problem(str(self.path(file)), 1, f"{name!r} is not a template ({known})")
                )
        return problems

    def _problem(self, file: str, exc: BaseException) -> Problem:
        """The file, the line in it and the message of a failure to parse or render."""
        path = str(self.path(file))
        if isinstance(exc, TemplateSyntaxError):
            return Problem(path, exc.lineno, f"TemplateSyntaxError: {exc.message}")
        ours = os.path.normpath(path)  # Jinja puts the template's lines in the traceback
        frames = traceback.extract_tb(exc.__traceback__)
        lines = [
            f.lineno
            for f in frames
            if f.lineno is not None and os.path.normpath(f.filename) == ours
        ]
        return Problem(path, lines[-1] if lines else 1, f"{type(exc).__name__}: {exc}")

    def _check(self, file: str, context: Mapping[str, Any]) -> list[Problem]:
        path = str(self.path(file))
        try:
            ast = self.env.parse(self.path(file).read_text(encoding="utf-8"), file, path)
        except TemplateSyntaxError as exc:
            return [self._problem(file, exc)]
        unknown = sorted(meta.find_undeclared_variables(ast) - set(context))
        if unknown:  # rendering would only stop at the first of them
            return [Problem(path, _first_use(ast, v), f"unknown variable {v!r}") for v in unknown]
        try:
            self._render(file, dict(context))
        except Exception as exc:  # noqa: BLE001 - whatever it is, it is the file's problem
            return [self._problem(file, exc)]
        return []

    def _render(self, file: str, context: dict[str, Any]) -> Rendered:
        rendered = split_subject(self.env.get_template(file).render(**context))
        html = file.removesuffix(SUFFIX) + HTML_SUFFIX
        if not self.path(html).is_file():
            return rendered
        return replace(rendered, html=self.env.get_template(html).render(**context))

    def _record(self, problem: Problem) -> None:
        with self._lock:
            if problem in self._seen:
                return
            self._seen.add(problem)
            self.problems.append(problem)
        log.error("%s (the shipped template is used instead)", problem)


def split_subject(output: str) -> Rendered:
    """Separate the `Subject:` first line from the body."""
    first, _, body = output.partition("\n")
    if not first.lower().startswith("subject:"):
        raise TemplateError("the first line must be 'Subject: ...'")
    return Rendered(subject=first[len("subject:") :].strip(), text=body.lstrip("\n"))


def _first_use(ast: nodes.Template, variable: str) -> int:
    return min(n.lineno for n in ast.find_all(nodes.Name) if n.name == variable)
