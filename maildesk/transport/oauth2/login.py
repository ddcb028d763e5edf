"""`maildesk oauth login NAME`: the device code flow once, its refresh token kept in
the table's token_file for the daemon to refresh from."""

import time
from collections.abc import Callable

from maildesk.config import Config
from maildesk.config.oauth2 import OAuth2Config
from maildesk.errors import ConfigError, TemporaryFailure
from maildesk.transport.oauth2 import generic, token_file
from maildesk.transport.oauth2.grants import Grant, GrantRefused, Unreachable
from maildesk.transport.oauth2.tokens import refused, who


def table_of(config: Config, name: str) -> OAuth2Config:
    """The oauth2 table of the mailbox called `name`, or of [smtp] for "smtp"."""
    tables = {m.name: m.imap.oauth2 for m in config.mailboxes}
    if config.smtp is not None:
        tables["smtp"] = config.smtp.oauth2
    found = tables.get(name)
    if found is None:
        names = ", ".join(n for n, t in tables.items() if t is not None) or "none"
        raise ConfigError(
            f"no mailbox called {name!r} signs in with OAuth2 (those that do: {names})"
        )
    return found


def device_login(
    config: OAuth2Config, show: Callable[[str], None], wait: Callable[[float], None] = time.sleep
) -> None:
    """Sign in once as a user (the delegated flow) and keep the refresh token."""
    if config.flow != "delegated":
        raise ConfigError(
            f'{config.key}.flow: "app" signs in with the application\'s own credentials; '
            'no login is needed (`oauth login` is for flow = "delegated")'
        )
    if config.provider == "google":
        raise ConfigError(
            f"{config.key}: Google's device flow does not allow the Gmail scope; use a service "
            'account (flow = "app") or put an installed app\'s refresh token in refresh_token_file'
        )
    if config.token_file is None:
        raise ConfigError(f"{config.key}.token_file: required to keep the refresh token")
    try:
        grant = _provider_login(config, show, wait)
    except GrantRefused as exc:
        raise refused(config, exc) from exc
    except Unreachable as exc:
        raise TemporaryFailure(f"{who(config)}: OAuth2 endpoint unreachable: {exc}") from exc
    if not grant.refresh_token:
        raise ConfigError(
            f"{who(config)}: the provider gave no refresh token (scope {config.scope!r})"
        )
    token_file.write(config.token_file, grant.refresh_token, f"{config.key}.token_file")


def _provider_login(
    config: OAuth2Config, show: Callable[[str], None], wait: Callable[[float], None]
) -> Grant:
    if config.provider == "microsoft":
        from maildesk.transport.oauth2 import microsoft

        return microsoft.device_login(config, show)
    return generic.device_login(config, show, wait)
