"""The requests session msal and google-auth send their token requests over.

`ca_file`, when set, is passed with every request: set on the session alone it
loses to a REQUESTS_CA_BUNDLE in the environment (requests merges the
environment over the session's verify), and the endpoint's private CA would be
ignored. Proxies from the environment still apply.
"""

import functools

import requests

from maildesk.config.oauth2 import OAuth2Config


def session(config: OAuth2Config) -> requests.Session:
    found = requests.Session()
    verify: str | bool = str(config.ca_file) if config.ca_file else True
    found.request = functools.partial(  # type: ignore[method-assign]
        found.request, verify=verify, timeout=config.timeout
    )
    return found
