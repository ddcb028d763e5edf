"""`templates list|check|preview|vars`: what an admin needs to edit templates safely."""

import click

from maildesk.cli.main import State
from maildesk.cli.output import print_table
from maildesk.desk import follow_up, template_vars
from maildesk.desk.notify import subject_line, ticket_context
from maildesk.desk.templates import ADMIN, SHIPPED, SUFFIX, Templates
from maildesk.errors import MaildeskError
from maildesk.store import db


@click.group()
def templates() -> None:
    """Mail templates: whose file is sent, checks, previews, variables."""


def _templates(state: State) -> Templates:
    """The config's templates alone: list and check need no secret and no database."""
    config = state.config()
    return Templates(config.desk.templates_dir, config.desk.default_locale)


@templates.command(name="list")
@click.pass_obj
def templates_list(state: State) -> None:
    """Each template with its locales and whose file is sent there: admin or shipped."""
    found = _templates(state)
    files = {tuple(f.removesuffix(SUFFIX).split("/")) for f in found.files()}
    locales = sorted({locale for _, locale, _ in files})

    def origin(name: str, locale: str) -> str:
        if (ADMIN, locale, name) in files:
            return ADMIN
        return SHIPPED if (SHIPPED, locale, name) in files else "no file"

    rows = (
        (name, *(origin(name, locale) for locale in locales)) for name in template_vars.DECLARED
    )
    print_table(("template", *locales), rows)


@templates.command(name="check")
@click.pass_obj
def templates_check(state: State) -> None:
    """Parse and render every file, the admin's and the shipped, against the samples;
    print `file:line: message` for each problem and exit 1 when there is one."""
    found = _templates(state)
    problems = found.check(template_vars.all_samples())
    for problem in problems:
        click.echo(str(problem))
    if problems:
        click.get_current_context().exit(1)
    click.echo(f"ok: {len(found.files())} template files, no problems")


@templates.command(name="preview")
@click.argument("name")
@click.option("--ticket", "number", type=int, help="Use this ticket's values (else samples).")
@click.option("--locale", help="Render for this locale (default: the ticket's, else the desk's).")
@click.pass_obj
def templates_preview(state: State, name: str, number: int | None, locale: str | None) -> None:
    """The mail as it would be sent now: its subject, then its body."""
    declared = template_vars.declared(name)
    context = template_vars.samples(name)
    if number is not None and "ticket" not in context:
        raise click.UsageError(f"--ticket: {name} is not about one ticket")
    app = state.app(require_schema=number is not None)
    context |= {"desk_name": app.config.desk.name}
    if number is None:
        number = template_vars.SAMPLE_NUMBER
        context |= {"tag": app.tag.format(number)} if "tag" in context else {}
    else:
        with db.transaction(app.sessions) as session:
            ticket = follow_up.by_number(session, number)
            if ticket is None:
                raise MaildeskError(f"ticket {number} not found")
            context |= ticket_context(app.desk(), ticket)
            locale = locale or ticket.locale
    rendered = app.templates.render(name, locale or app.config.desk.default_locale, context)
    subject = (
        subject_line(app.desk(), number, rendered.subject)
        if declared.on_ticket
        else rendered.subject
    )
    click.echo(f"Subject: {subject}\n\n{rendered.text}", nl=not rendered.text.endswith("\n"))


@templates.command(name="vars")
@click.argument("name")
def templates_vars(name: str) -> None:
    """The variables template NAME is given, each with what it holds."""
    declared = template_vars.declared(name)
    click.echo(f"{name}: {declared.about}")
    rows = ((variable, var.description) for variable, var in declared.variables.items())
    print_table(("variable", "holds"), rows)
