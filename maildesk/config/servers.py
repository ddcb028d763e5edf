"""The mail servers' tables: each IMAP mailbox (`[[mailboxes]]` or a lone `[imap]`) and
`[smtp]`, with their logins and TLS; kept apart from loading.py, which reads the rest."""

from pathlib import Path

from maildesk.config import oauth2, secrets
from maildesk.config.cautions import is_loopback
from maildesk.config.settings import (
    SECURITY_MODES,
    ImapConfig,
    MailboxConfig,
    SmtpConfig,
    Trust,
)
from maildesk.config.toml_table import REQUIRED, Table
from maildesk.errors import ConfigError


def mailboxes(root: Table) -> tuple[MailboxConfig, ...]:
    """`[[mailboxes]]`, or the lone `[imap]` table as one mailbox called "default"."""
    imap = root.table("imap", required=False)
    tables = root.get("mailboxes", list, [])
    if imap is not None and tables:
        raise ConfigError("imap: give either [imap] or [[mailboxes]], not both")
    if imap is not None:
        single = MailboxConfig("default", _imap(imap, "default"))
        imap.reject_unknown()
        return (single,)
    mailboxes = tuple(_mailbox(Table(t, f"mailboxes[{n}]")) for n, t in enumerate(tables))
    names = [m.name for m in mailboxes]
    for index, name in enumerate(names):
        if name in names[:index]:
            raise ConfigError(f"mailboxes[{index}].name: {name!r} is used twice")
    return mailboxes


def _mailbox(t: Table) -> MailboxConfig:
    name = t.get("name", str, None)
    address = t.get("address", str, None)
    if address is not None and "@" not in address:
        raise ConfigError(f"{t.key('address')}: {address!r} is not an address")
    imap = _imap(t, name or t.get("username", str))
    mailbox = MailboxConfig(name or imap.username, imap, address, t.get("team", str, None))
    t.reject_unknown()
    return mailbox


def _imap(t: Table, name: str) -> ImapConfig:
    """The IMAP account keys of `[imap]` or of one `[[mailboxes]]` entry (called `name`)."""
    security = t.choice("security", SECURITY_MODES, "ssl")
    auth = oauth2.auth(t)
    imap = ImapConfig(
        host=t.get("host", str),
        port=t.port(993 if security == "ssl" else 143),
        security=security,
        username=t.get("username", str),
        password=secrets.secret(t, "password", "" if auth == "oauth2" else REQUIRED),
        folder=t.get("folder", str, "INBOX"),
        processed_folder=t.get("processed_folder", str, "Processed"),
        quarantine_folder=t.get("quarantine_folder", str, "Quarantine"),
        poll_interval=t.positive("poll_interval", 30.0),
        idle=t.get("idle", bool, True),
        timeout=t.positive("timeout", 60.0),
        trust=_trust(t, security),
        auth=auth,
        oauth2=oauth2.oauth2(t, auth, name),
    )
    _plaintext(t, security, imap.host)
    return imap


def smtp(t: Table | None) -> SmtpConfig | None:
    if t is None:
        return None
    security = t.choice("security", SECURITY_MODES, "starttls")
    from_address = t.get("from_address", str)
    if "@" not in from_address:
        raise ConfigError(f"{t.key('from_address')}: {from_address!r} is not an address")
    auth = oauth2.auth(t)
    smtp = SmtpConfig(
        host=t.get("host", str),
        port=t.port({"ssl": 465, "starttls": 587, "none": 25}[security]),
        security=security,
        username=t.get("username", str, ""),
        password=secrets.secret(t, "password"),
        from_address=from_address,
        timeout=t.positive("timeout", 60.0),
        trust=_trust(t, security),
        auth=auth,
        oauth2=oauth2.oauth2(t, auth, "smtp"),
    )
    _plaintext(t, security, smtp.host)
    if smtp.oauth2 is not None:
        oauth2.check_smtp(t, smtp.username, smtp.oauth2)
    t.reject_unknown()
    return smtp


def _trust(t: Table, security: str) -> Trust:
    """The TLS keys: a typo in a file name is named at start, not at the first connection."""
    files = {name: t.get(name, str, None) for name in ("ca_file", "client_cert", "client_key")}
    verify = t.get("verify", bool, True)
    if security == "none":
        for name, value in {**files, "verify": None if verify else False}.items():
            if value is not None:
                raise ConfigError(f"{t.key(name)}: only used with security = ssl or starttls")
        return Trust(t.path)
    for name, value in files.items():
        if value is not None and not Path(value).is_file():
            raise ConfigError(f"{t.key(name)}: no file {value!r}")
    if files["client_key"] is not None and files["client_cert"] is None:
        raise ConfigError(f"{t.key('client_key')}: needs client_cert (the certificate it signs)")
    if files["ca_file"] is not None and not verify:
        raise ConfigError(f"{t.key('ca_file')}: has no use with verify = false")
    path = {name: Path(value) if value is not None else None for name, value in files.items()}
    return Trust(t.path, path["ca_file"], verify, path["client_cert"], path["client_key"])


def _plaintext(t: Table, security: str, host: str) -> None:
    """`none` sends the password readable: refused beyond loopback unless allow_plaintext."""
    allowed = t.get("allow_plaintext", bool, False)
    if security == "none" and not allowed and not is_loopback(host):
        raise ConfigError(
            f'{t.key("security")}: "none" sends the password in plain text and {host!r} is'
            f" not loopback; use ssl or starttls, or set {t.key('allow_plaintext')} = true"
        )
