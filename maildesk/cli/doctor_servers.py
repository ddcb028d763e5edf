"""The checks of `doctor` that talk to the mail servers, step by step, through the
daemon's own connect and login code: each mailbox (connect, TLS, login, folders,
IDLE) and the SMTP server (connect, TLS, login, and a test mail when asked)."""

import asyncio
from collections.abc import Iterator
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from maildesk.cli.doctor_local import FAIL, OK, WARN, Check
from maildesk.config import Config, ImapConfig, MailboxConfig, SmtpConfig
from maildesk.config.cautions import caution, is_loopback
from maildesk.errors import ConfigError, MaildeskError
from maildesk.transport import smtp
from maildesk.transport.inbox import Inbox


def mailbox(found: MailboxConfig, fix: bool) -> Iterator[Check]:
    name = f"mailbox {found.name}"
    c = found.imap
    inbox = Inbox(c)
    step = "connect"
    try:
        try:
            inbox.open()
        except ConfigError as exc:  # the connection was made; its certificate refused
            yield Check(name, FAIL, f"TLS: {exc}")
            return
        yield Check(name, OK, f"connect: {c.host}:{c.port}")
        yield tls(name, c, inbox.tls_version())
        step = "login"
        inbox.login()
        yield Check(name, OK, f"login: as {c.username}")
        step = "folders"
        yield from _folders(name, c, inbox, fix)
        step = "IDLE"
        yield _idle(name, c, inbox.supports_idle())
    except MaildeskError as exc:
        yield Check(name, FAIL, f"{step}: {exc}")
    finally:
        inbox.close()


def _folders(name: str, c: ImapConfig, inbox: Inbox, fix: bool) -> Iterator[Check]:
    missing = inbox.missing_folders()
    if c.folder in missing:
        key = f"{c.trust.section}.folder"
        yield Check(name, FAIL, f"folders: {c.folder!r} does not exist ({key})")
    done = [f for f in missing if f != c.folder]
    if done and fix:
        created = inbox.create_folders()
        yield Check(name, OK, f"folders: created {', '.join(created)}")
    elif done:
        yield Check(
            name,
            WARN,
            f"folders: {', '.join(done)} missing (`doctor --fix` creates them, as would the"
            " first poll)",
        )
    elif not missing:
        named = [f for f in (c.folder, c.processed_folder, c.quarantine_folder) if f]
        yield Check(name, OK, f"folders: {', '.join(named)} exist")


def _idle(name: str, c: ImapConfig, offered: bool) -> Check:
    if not offered:
        return Check(
            name, WARN, f"IDLE: not offered; new mail waits up to {c.poll_interval:g} s for a poll"
        )
    if not c.idle:
        return Check(
            name, OK, f"IDLE: offered, not used (idle = false): a poll every {c.poll_interval:g} s"
        )
    return Check(name, OK, "IDLE: offered; new mail is handled within seconds")


def tls(name: str, server: ImapConfig | SmtpConfig, version: str | None) -> Check:
    """What the connection's TLS is worth: verified, unverified, or none."""
    section = server.trust.section
    warning = caution(section, server)
    if warning is not None:
        return Check(name, WARN, f"TLS: {version or 'none'}; {warning}")
    if server.security == "none":
        on = "loopback" if is_loopback(server.host) else server.host
        return Check(name, OK, f"TLS: none (security = none, on {on})")
    against = f"the CA in {server.trust.ca_file}" if server.trust.ca_file else "the system's CAs"
    sent = "; our client certificate sent" if server.trust.client_cert else ""
    detail = f"TLS: {version}, certificate of {server.host} verified against {against}{sent}"
    return Check(name, OK, detail)


def smtp_server(config: Config, send_test: str | None) -> Iterator[Check]:
    if config.smtp is None:
        if send_test:
            yield Check("smtp", FAIL, "no [smtp] section: no test mail can be sent")
        else:
            yield Check("smtp", WARN, "no [smtp] section: the desk sends no mail")
        return
    yield from asyncio.run(_smtp(config, send_test))


async def _smtp(config: Config, send_test: str | None) -> list[Check]:
    server = config.smtp
    assert server is not None
    found: list[Check] = []
    step = "connect"
    try:
        async with smtp.Connection(server) as connection:
            try:
                await connection.open()
            except ConfigError as exc:
                return [Check("smtp", FAIL, f"TLS: {exc}")]
            found.append(Check("smtp", OK, f"connect: {server.host}:{server.port}"))
            found.append(tls("smtp", server, connection.tls_version()))
            step = "login"
            await connection.log_in()
            who = f"as {server.username}" if server.username else "none (no smtp.username)"
            found.append(Check("smtp", OK, f"login: {who}"))
            if send_test:
                step = "test mail"
                await connection.send(
                    server.from_address, [send_test], _test_mail(config, send_test)
                )
                found.append(Check("smtp", OK, f"test mail: sent to {send_test}"))
    except MaildeskError as exc:
        found.append(Check("smtp", FAIL, f"{step}: {exc}"))
    except smtp.SendError as exc:
        found.append(Check("smtp", FAIL, f"{step}: {exc.reason}"))
    return found


def _test_mail(config: Config, to: str) -> bytes:
    """A short mail that says what it is; Auto-Submitted, so no desk answers it."""
    mail = EmailMessage()
    mail["From"] = config.sender_for(None)
    mail["To"] = to
    mail["Subject"] = f"maildesk doctor: test mail from {config.desk.name}"
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = make_msgid("doctor", domain=config.desk.instance)
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content(
        f"This mail was sent by `maildesk doctor --send-test` of {config.desk.name}:\n"
        "the desk's SMTP settings work. Nothing needs to be done.\n"
    )
    return mail.as_bytes()
