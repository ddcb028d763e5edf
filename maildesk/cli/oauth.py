"""`maildesk oauth login NAME`: sign a mailbox (or "smtp") in once with OAuth2."""

import click

from maildesk.cli.main import State
from maildesk.transport.oauth2 import login as oauth_login


@click.group()
def oauth() -> None:
    """OAuth2 sign-in of mailboxes and SMTP."""


@oauth.command()
@click.argument("name", metavar="MAILBOX")
@click.pass_obj
def login(state: State, name: str) -> None:
    """Run the device code flow once (prints the URL and the code) and keep the refresh
    token in the token_file of MAILBOX's oauth2 table ("smtp" for [smtp])."""
    config = state.config()
    table = oauth_login.table_of(config, name)
    oauth_login.device_login(table, click.echo)
    click.echo(f"signed in: refresh token kept in {table.token_file}")
