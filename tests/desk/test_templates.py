"""Templates that admins edit safely: file-by-file override, declared variables,
`templates` commands, hot reload, shipped fallback with one alert, the sandbox."""

import os
from email import message_from_bytes, policy
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from maildesk.desk import template_vars
from maildesk.desk.notify import ticket_context
from maildesk.desk.templates import SHIPPED, SUFFIX, Problem, Templates
from maildesk.errors import TemplateError
from maildesk.intake import pipeline
from maildesk.mail.subject_tag import SubjectTag
from maildesk.store import db
from maildesk.store.tables import OutboxKind, OutboxMail, Ticket
from tests.conftest import config_text, maildesk_in_process, make_mail

SAMPLES = template_vars.all_samples()
ESCAPES = [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__.os }}",
    "{{ ticket.items.__self__.__class__ }}",
]


def write(directory: Path, file: str, text: str) -> Path:
    path = directory / file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def touch_later(path: Path) -> None:
    """A later mtime, as an editor's save gives: Jinja reloads by mtime, no sleep needed."""
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))


@pytest.fixture
def admin(tmp_path: Path) -> Path:
    return tmp_path / "admin"


# --- declared variables -----------------------------------------------------------------


def test_the_shipped_templates_are_the_declared_ones_and_check_clean():
    shipped = Templates(None, "en")
    names = {f.rpartition("/")[2].removesuffix(SUFFIX) for f in shipped.files()}
    assert names == set(template_vars.DECLARED)
    assert {f.split("/")[1] for f in shipped.files()} == {"en", "zh"}
    assert shipped.check(SAMPLES) == []


def test_the_declared_ticket_part_is_what_notify_gives_every_ticket_mail():
    desk = SimpleNamespace(config=SimpleNamespace(desk=SimpleNamespace(name="D")))
    desk.tag = SubjectTag("[Ticket#{number}]")
    ticket = Ticket(number=7, subject="s", customer="a@b.example", status="open", priority="P2")
    given = ticket_context(desk, ticket)
    assert set(given) == set(template_vars.TICKET)
    assert set(given["ticket"]) == set(template_vars.TICKET["ticket"].sample)
    tickets = [d for d in template_vars.DECLARED.values() if "ticket" in d.variables]
    assert all(template_vars.TICKET.items() <= d.variables.items() for d in tickets)


def test_unknown_names_are_usage_errors():
    with pytest.raises(template_vars.UnknownTemplate, match="no template 'sla_digest'") as err:
        template_vars.samples("sla_digest")
    assert err.value.exit_code == 2


# --- override file by file, hot reload ---------------------------------------------------


def test_an_admin_file_overrides_that_file_only(admin):
    write(admin, "en/ack.txt.j2", "Subject: {{ tag }} ours\n\nAdmin text.\n")
    templates = Templates(admin, "en")
    assert templates.render("ack", "en", SAMPLES["ack"]).text == "Admin text.\n"
    assert "Your request" in templates.render("merged", "en", SAMPLES["merged"]).text
    chinese = templates.render("ack", "zh", SAMPLES["ack"]).text
    assert "感谢您联系" in chinese, "the locale comes first: a zh customer gets the shipped zh"
    assert templates.find("ack", "fr") == "admin/en/ack.txt.j2", "fr falls back to en, admin's"


def test_edits_are_picked_up_without_a_restart(admin):
    templates = Templates(admin, "en")
    assert templates.find("merged", "en") == f"{SHIPPED}/en/merged.txt.j2"
    path = write(admin, "en/merged.txt.j2", "Subject: one\n\nfirst\n")
    assert templates.render("merged", "en", SAMPLES["merged"]).text == "first\n", "a new file"
    path.write_text("Subject: two\n\nsecond\n", encoding="utf-8")
    touch_later(path)
    assert templates.render("merged", "en", SAMPLES["merged"]).text == "second\n", "edited"
    path.unlink()
    assert "Your request" in templates.render("merged", "en", SAMPLES["merged"]).text


# --- check ------------------------------------------------------------------------------


def test_check_names_file_and_line_of_each_problem(admin):
    write(admin, "en/ack.txt.j2", "Subject: {{ tag }}\n\nline 3\n{% if ticket %}\nno end\n")
    write(admin, "en/merged.txt.j2", "Subject: {{ tag }}\n\n{{ new_tag }}\n{{ new_tga }}\n")
    write(admin, "zh/merged.txt.j2", "Subject: {{ tag }}\n\n\n{{ ticket.subjet }}\n")
    write(admin, "en/status_update.txt.j2", "Hello {{ customer_name }}\n\nbody\n")
    write(admin, "en/command_error.txt.j2", "Subject: renamed\n\nx\n")
    problems = [str(p) for p in Templates(admin, "en").check(SAMPLES)]
    assert problems == [
        f"{admin}/en/ack.txt.j2:4: TemplateSyntaxError: Unexpected end of template."
        " Jinja was looking for the following tags: 'elif' or 'else' or 'endif'."
        " The innermost block that needs to be closed is 'if'.",
        f"{admin}/en/command_error.txt.j2:1: 'command_error' is not a template"
        f" ({', '.join(sorted(template_vars.DECLARED))})",
        f"{admin}/en/merged.txt.j2:4: unknown variable 'new_tga'",
        f"{admin}/en/status_update.txt.j2:1: TemplateError: the first line must be 'Subject: ...'",
        f"{admin}/zh/merged.txt.j2:4: UndefinedError: 'dict object' has no attribute 'subjet'",
    ]


@pytest.mark.parametrize("escape", ESCAPES)
def test_the_sandbox_refuses_escapes_in_check_and_at_send_time(admin, escape):
    write(admin, "en/ack.txt.j2", f"Subject: {{{{ tag }}}}\n\n{escape}\n")
    templates = Templates(admin, "en")
    (problem,) = templates.check(SAMPLES)
    assert (problem.path, problem.line) == (str(admin / "en/ack.txt.j2"), 3)
    assert problem.message.startswith("SecurityError: ")
    sent = templates.render("ack", "en", SAMPLES["ack"])
    assert "Thank you for contacting" in sent.text and "class" not in sent.text
    assert templates.drain() == [problem]


# --- send time: fallback, alert ----------------------------------------------------------


def test_a_broken_admin_file_falls_back_to_the_shipped_one_recorded_once(admin):
    write(admin, "en/ack.txt.j2", "Subject: {{ tag }}\n\n{{ customer_nmae }}\n")
    templates = Templates(admin, "en")
    first = templates.render("ack", "en", SAMPLES["ack"])
    again = templates.render("ack", "en", SAMPLES["ack"])
    assert first == again == Templates(None, "en").render("ack", "en", SAMPLES["ack"])
    path = str(admin / "en/ack.txt.j2")
    assert templates.drain() == [Problem(path, 3, "UndefinedError: 'customer_nmae' is undefined")]
    assert templates.render("ack", "en", SAMPLES["ack"]) == first
    assert templates.drain() == [], "told once per file and error"


def test_a_broken_shipped_file_still_raises(tmp_path):
    write(tmp_path / "shipped", "en/ack.txt.j2", "Subject: x\n\n{{ nothing }}\n")
    templates = Templates(None, "en", shipped=tmp_path / "shipped")
    with pytest.raises(TemplateError, match="ack.txt.j2: 'nothing' is undefined"):
        templates.render("ack", "en", {})


ADMINS = """
[[agents]]
email = "root@desk.example"
name = "Root"
role = "admin"

[[agents]]
email = "lin@desk.example"
name = "Lin"
"""


def outbox(app) -> list[tuple[str, tuple[str, ...], object]]:
    with db.transaction(app.sessions) as session:
        rows = session.scalars(select(OutboxMail).order_by(OutboxMail.id)).all()
        return [
            (
                row.kind,
                tuple(r.address for r in row.recipients),
                message_from_bytes(row.raw, policy=policy.default),
            )
            for row in rows
        ]


def test_broken_admin_ack_sends_the_shipped_one_and_alerts_each_admin_once(make_app, admin):
    app = make_app(extra=ADMINS)
    app.templates = Templates(admin, "en")
    write(admin, "en/ack.txt.j2", "Subject: {{ tag }} Thanks\n\n{{ ticket.subjet }}\n")
    for n in (1, 2):
        mail = make_mail(sender=f"c{n}@customer.example", subject=f"question {n}")
        assert pipeline.process(app, mail.as_bytes(), "test") == pipeline.Outcome.STORED
    sent = outbox(app)
    acks = [mail for kind, _, mail in sent if kind == OutboxKind.ACK]
    assert len(acks) == 2 and all("Thank you for contacting" in m.get_content() for m in acks)
    alerts = [(to, mail) for kind, to, mail in sent if kind == OutboxKind.AGENT_NOTIFICATION]
    assert [to for to, _ in alerts] == [("root@desk.example",)], "one alert, to the admin only"
    (_, alert), path = alerts[0], admin / "en/ack.txt.j2"
    assert alert["Subject"] == f"[Ticket#1] Template failed: {path}"
    assert f"{path}:3: UndefinedError: 'dict object' has no attribute 'subjet'" in (
        alert.get_content()
    )


def test_an_admin_subject_without_the_tag_gets_it_back(make_app, admin):
    app = make_app()
    app.templates = Templates(admin, "en")
    write(admin, "en/ack.txt.j2", "Subject: We got your mail\n\nThanks.\n")
    pipeline.process(app, make_mail(subject="printer").as_bytes(), "test")
    ((kind, _, ack),) = outbox(app)
    assert kind == OutboxKind.ACK and ack["Subject"] == "[Ticket#1] We got your mail"
    assert ack.get_content() == "Thanks.\n"


def test_an_html_file_beside_the_text_makes_it_multipart_alternative(make_app, admin):
    app = make_app()
    app.templates = Templates(admin, "en")
    write(admin, "en/ack.txt.j2", "Subject: {{ tag }} Thanks\n\nThanks, {{ customer_name }}.\n")
    write(admin, "en/ack.html.j2", "<p>Thanks, <b>{{ customer_name }}</b>.</p>\n")
    mail = make_mail(sender='"<b>Ann</b>" <ann@customer.example>', subject="printer")
    pipeline.process(app, mail.as_bytes(), "test")

    ((kind, _, ack),) = outbox(app)
    assert kind == OutboxKind.ACK and ack.get_content_type() == "multipart/alternative"
    text, html = (part.get_content() for part in ack.iter_parts())
    assert text == "Thanks, <b>Ann</b>.\n", "the text part as it was"
    assert html == "<p>Thanks, <b>&lt;b&gt;Ann&lt;/b&gt;</b>.</p>\n", "the customer's escaped"


# --- the commands --------------------------------------------------------------------------


def cli_config(tmp_path: Path, database: Path | str, admin: Path | None = None) -> Path:
    text = config_text(database, None, None, None)
    if admin is not None:
        text = text.replace(
            'default_locale = "en"', f'default_locale = "en"\ntemplates_dir = "{admin}"'
        )
    path = tmp_path / "maildesk.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_check_and_list_commands(tmp_path, admin):
    config = cli_config(tmp_path, tmp_path / "desk.db", admin)
    files = len(Templates(None, "en").files())
    clean = maildesk_in_process("templates", "check", config=config)
    assert (clean.returncode, clean.stdout) == (0, f"ok: {files} template files, no problems\n")

    write(admin, "zh/ack.txt.j2", "Subject: {{ tag }}\n\n{{ tag }\n")
    write(admin, "en/merged.txt.j2", "Subject: {{ tag }}\n\n{{ new_tag }} {{ oops }}\n")
    broken = maildesk_in_process("templates", "check", config=config)
    assert broken.returncode == 1, broken.stderr
    assert broken.stdout.splitlines() == [
        f"{admin}/en/merged.txt.j2:3: unknown variable 'oops'",
        f"{admin}/zh/ack.txt.j2:3: TemplateSyntaxError: unexpected '}}'",
    ]

    listed = maildesk_in_process("templates", "list", config=config)
    assert listed.returncode == 0
    header, _rule, *rows = listed.stdout.splitlines()
    assert header.split() == ["template", "en", "zh"]
    lines = {row.split()[0]: row.split()[1:] for row in rows}
    assert set(lines) == set(template_vars.DECLARED)
    assert lines["ack"] == ["shipped", "admin"]
    assert lines["merged"] == ["admin", "shipped"]
    assert lines["digest"] == ["shipped", "shipped"]


def test_vars_command_and_unknown_names(tmp_path):
    config = cli_config(tmp_path, tmp_path / "desk.db")
    result = maildesk_in_process("templates", "vars", "survey_thanks", config=config)
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines[0] == f"survey_thanks: {template_vars.DECLARED['survey_thanks'].about}"
    assert lines[1].split() == ["variable", "holds"]
    assert [line.split()[0] for line in lines[3:]] == [
        *template_vars.TICKET,
        "rating",
        "page_url",
    ]
    for command in ("vars", "preview"):
        unknown = maildesk_in_process("templates", command, "sla_escalation", config=config)
        assert unknown.returncode == 2 and "no template 'sla_escalation'" in unknown.stderr


def test_preview_with_samples_and_with_a_real_ticket(tmp_path, empty_database_url):
    config = cli_config(tmp_path, empty_database_url)
    sample = maildesk_in_process("templates", "preview", "merged", config=config)
    assert sample.returncode == 0, sample.stderr
    assert sample.stdout.startswith(
        "Subject: [Ticket#1042] Now [Ticket#1040]: The printer is on fire\n\n"
    )
    assert "Dear Ann Lee," in sample.stdout and "Test Support" in sample.stdout

    maildesk_in_process("init", config=config)
    eml = tmp_path / "one.eml"
    eml.write_bytes(
        make_mail(
            sender="Zhang Wei <zw@customer.example>", subject="打印机", body="打印机坏了"
        ).as_bytes()
    )
    assert "1 stored" in maildesk_in_process("import", str(eml), config=config).stdout
    real = maildesk_in_process(
        "templates", "preview", "status_update", "--ticket", "1", config=config
    )
    assert real.returncode == 0, real.stderr
    assert real.stdout.startswith("Subject: [Ticket#1] 已解决：打印机\n\n"), "the ticket's locale"
    assert "zw@customer.example，您好" in real.stdout
    english = maildesk_in_process(
        "templates", "preview", "escalated", "--ticket", "1", "--locale", "en", config=config
    )
    assert english.stdout.startswith("Subject: [Ticket#1] Escalated to you (P2): 打印机\n")
    missing = maildesk_in_process("templates", "preview", "ack", "--ticket", "9", config=config)
    assert missing.returncode == 1 and "ticket 9 not found" in missing.stderr
    no_ticket = maildesk_in_process(
        "templates", "preview", "digest", "--ticket", "1", config=config
    )
    assert no_ticket.returncode == 2 and "digest is not about one ticket" in no_ticket.stderr
