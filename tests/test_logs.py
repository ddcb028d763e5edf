"""The log: one line per mail in and per mail out, text or JSON (`[log]`), and no
customer's words or address at INFO."""

import asyncio
import json
import logging

import pytest

from maildesk.config import parse
from maildesk.errors import ConfigError
from maildesk.intake import pipeline
from maildesk.logs import TextFormatter
from maildesk.transport import outbox
from tests.conftest import maildesk_cli, maildesk_in_process, make_mail

ONE_DATABASE = "the log is written the same over any database"
JSON_LOG = '\n[log]\nformat = "json"\n'
SUBJECT, BODY = "Invoice 4711 for Ann Lee is wrong", "My card ends in 1234."
SINK_LOGGER = "mail.log"  # aiosmtpd's: the test's SMTP server runs in this process too
MINIMAL = {"desk": {"name": "D"}, "database": {"url": "sqlite://"}}

one_database = pytest.mark.parametrize("database_kind", ["sqlite"])


def json_lines(stderr: str) -> list[dict]:
    """Every line of the log as JSON: one that is not fails the test."""
    return [json.loads(line) for line in stderr.splitlines() if line.strip()]


def of_event(lines: list[dict], event: str) -> list[dict]:
    return [line for line in lines if line.get("event") == event]


@pytest.mark.one_database(ONE_DATABASE)
@one_database
def test_a_poll_logs_one_json_line_per_mail_in_and_out(mailbox, smtp_sink, make_app):
    app = make_app(mailbox, smtp_sink, extra=JSON_LOG)
    first = make_mail(subject=SUBJECT, body=BODY)
    away = make_mail(subject="Out of office: " + SUBJECT, body=BODY, Auto_Submitted="auto-replied")
    mailbox.deliver(first, away, first)  # the third: the first again, a duplicate

    done = maildesk_in_process("poll", "--once", config=app.config.path)

    assert done.returncode == 0, done.stderr
    lines = json_lines(done.stderr)
    mails_in = of_event(lines, "mail_in")
    assert [(m["uid"], m["action"], m["class"], m["ticket"]) for m in mails_in] == [
        (1, "opened", "human", 1),
        (2, "filed", "auto_reply", 2),
        (3, "duplicate", None, None),
    ]
    for line in mails_in:
        assert line["mailbox"] == "default" and line["level"] == "INFO"
        assert line["message"] == "mail in" and line["time"].endswith("+00:00")
        assert isinstance(line["ms"], float) and line["ms"] >= 0
    assert [m["message_id"] for m in mails_in] == [
        first["Message-ID"],
        away["Message-ID"],
        first["Message-ID"],
    ]
    (ack,) = of_event(lines, "mail_out")
    assert {k: ack[k] for k in ("kind", "domain", "result", "attempt")} == {
        "kind": "ack",
        "domain": "customer.example",
        "result": "sent",
        "attempt": 1,
    }
    assert isinstance(ack["outbox_id"], int)
    desks = "\n".join(json.dumps(line) for line in lines if line["logger"] != SINK_LOGGER)
    for words in (SUBJECT, BODY, "Ann Lee", "ann@customer.example"):
        assert words not in desks


@pytest.mark.one_database(ONE_DATABASE)
@one_database
def test_each_delivery_attempt_logs_its_result_and_number(make_app, smtp_sink, clock, caplog):
    """4xx: deferred, the attempt counted; 5xx: failed at once; the server's reply keeps
    only the domain of the address it names."""
    app = make_app(sink=smtp_sink)
    for sender in ("busy@customer.example", "gone@other.example"):
        pipeline.process(app, make_mail(sender=sender).as_bytes(), f"test:{sender}")
    replies = {"busy@customer.example": "450 4.2.1 mailbox busy"}
    replies["gone@other.example"] = "550 5.1.1 <gone@other.example>: no such user"

    async def refuse(server, session, envelope, address, options):
        if address in replies:
            return replies[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    smtp_sink.handle_RCPT = refuse
    caplog.set_level(logging.INFO, logger="maildesk")
    asyncio.run(outbox.drain(app))
    clock.advance(hours=1)
    asyncio.run(outbox.drain(app))
    del replies["busy@customer.example"]
    clock.advance(hours=1)
    asyncio.run(outbox.drain(app))

    mails_out = [r for r in caplog.records if getattr(r, "event", None) == "mail_out"]
    assert [(r.domain, r.result, r.attempt, r.levelname) for r in mails_out] == [
        ("customer.example", "deferred", 1, "WARNING"),
        ("other.example", "failed", 1, "ERROR"),
        ("customer.example", "deferred", 2, "WARNING"),
        ("customer.example", "sent", 3, "INFO"),
    ]
    assert {r.kind for r in mails_out} == {"ack"}
    assert "550, '5.1.1 <…@other.example>: no such user', '…@other.example'" in mails_out[1].error
    logged = "\n".join(r.getMessage() + str(r.__dict__) for r in caplog.records)
    assert "gone@other.example" not in logged and "busy@customer.example" not in logged


@pytest.mark.one_database(ONE_DATABASE)
@one_database
def test_the_installed_command_writes_json_only_and_v_lowers_the_level(tmp_path, make_app):
    """`import` as an operator runs it: with `level = "warning"` no mail line, with -v one;
    every line on stderr is JSON."""
    config = make_app(extra=JSON_LOG + 'level = "warning"\n').config.path
    eml = tmp_path / "a.eml"
    eml.write_bytes(make_mail(subject=SUBJECT, body=BODY).as_bytes())

    quiet = maildesk_in_process("import", str(eml), config=config)
    assert quiet.returncode == 0 and of_event(json_lines(quiet.stderr), "mail_in") == []

    told = maildesk_cli("-v", "import", str(eml), config=config)
    assert told.returncode == 0, told.stderr
    (line,) = of_event(json_lines(told.stderr), "mail_in")
    assert (line["action"], line["uid"], line["mailbox"]) == ("duplicate", None, None)
    assert SUBJECT not in told.stderr and BODY not in told.stderr


def test_the_text_format_shows_the_fields_after_the_message():
    record = logging.LogRecord("maildesk.x", logging.INFO, __file__, 1, "mail in", None, None)
    fields = {"event": "mail_in", "uid": 7, "ticket": None, "message_id": "<a b@c>"}
    record.__dict__.update(fields)
    line = TextFormatter().format(record)
    assert line.endswith(
        ' INFO maildesk.x: mail in event=mail_in uid=7 ticket=- message_id="<a b@c>"'
    )


@pytest.mark.parametrize(
    ("log", "message"),
    [
        ({"format": "xml"}, "log.format: 'xml' is not one of text, json"),
        ({"level": "verbose"}, "log.level: 'verbose' is not one of debug, info, warning, error"),
        ({"level": 10}, "log.level: must be str"),
        ({"file": "/var/log/maildesk"}, "log.file: unknown key"),
    ],
)
def test_bad_log_settings_name_the_key(log, message):
    with pytest.raises(ConfigError, match=message):
        parse({**MINIMAL, "log": log})


def test_log_settings_are_read():
    found = parse({**MINIMAL, "log": {"format": "json", "level": "debug"}}).log
    assert (found.format, found.level) == ("json", logging.DEBUG)
    default = parse(MINIMAL).log
    assert (default.format, default.level) == ("text", logging.INFO)
