"""The maildesk error family; library errors are translated into these at the edges."""


class MaildeskError(Exception):
    """Base of every error maildesk raises on purpose."""

    exit_code = 1


class ConfigError(MaildeskError):
    """The configuration is unusable; the message names the key and the reason."""

    exit_code = 2


class LoginRefused(ConfigError):
    """A server refused our login (a wrong password, basic authentication off, an expired
    token); the message names the account and the fix. Trying again soon would only
    lock the account, so the daemon tries again slowly (daemon/backoff.py)."""


class TemporaryFailure(MaildeskError):
    """A server could not be reached; trying again later may work (EX_TEMPFAIL)."""

    exit_code = 75


class DatabaseUnavailable(TemporaryFailure):
    """The database is locked, busy or gone for now; the mail in hand is not at fault."""


class DiskFull(TemporaryFailure):
    """A file could not be written for want of space; freeing some lets the mail in."""


class TemplateError(MaildeskError):
    """A template is missing, does not parse, or fails to render."""


class Discard(Exception):  # noqa: N818 - a signal, not a failure
    """Stop processing this mail on purpose; it is not an error (e.g. a duplicate)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ArticleError(MaildeskError):
    """An article file or value is unusable; the message names the file, the key and why."""

    exit_code = 2
