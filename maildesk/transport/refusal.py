"""A login the server refused: one error for IMAP and SMTP, naming the account and
the fix, read from the server's own words where a provider is known by them."""

import re

from maildesk.config import ImapConfig, SmtpConfig
from maildesk.errors import LoginRefused

Server = ImapConfig | SmtpConfig

# (what the server says, the fix), first match wins; {auth} and {security} are the keys
# of the login's mode and of the connection's.
_FIXES = (
    (
        re.compile(r"(?i)basic auth\w* is disabled|BasicAuthBlocked"),
        'Microsoft 365 has basic authentication off: set {auth} = "oauth2"'
        " (README: Microsoft 365 and Gmail)",
    ),
    (
        re.compile(r"(?i)SmtpClientAuthentication is disabled"),
        "the Microsoft 365 tenant has SMTP AUTH off: an administrator turns it on for this"
        " mailbox (Set-CASMailbox -SmtpClientAuthenticationDisabled $false)",
    ),
    (
        re.compile(r"(?i)PRIVACYREQUIRED|plaintext authentication disallowed"),
        'the server takes no password in plain text: set {security} = "ssl" or "starttls"',
    ),
    (
        re.compile(r"(?i)application-specific password required"),
        'Google takes a password here only as an app password: use one, or set {auth} = "oauth2"'
        " (README: Microsoft 365 and Gmail)",
    ),
)


def login_refused(service: str, server: Server, answer: str) -> LoginRefused:
    """The error of a refused login as `server.username`; `answer` is the server's text."""
    where = f"{service} login as {server.username!r} at {server.host}:{server.port}"
    said = answer.strip() or "no reason given"
    return LoginRefused(f"{where} refused ({said}); {fix(server, answer)}")


def fix(server: Server, answer: str) -> str:
    """What the operator should change, by what the server said."""
    section = server.trust.section
    for pattern, text in _FIXES:
        if pattern.search(answer):
            return text.format(auth=f"{section}.auth", security=f"{section}.security")
    return (
        f"check {section}.username and the password in ${server.password.env}"
        f" ({server.password.key})"
    )
