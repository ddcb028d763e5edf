"""What a token endpoint answers, and its two ways of saying no; shared by the providers."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Grant:
    """An access token and its life in seconds; a new refresh token when one came."""

    access_token: str
    expires_in: float
    refresh_token: str = ""


class GrantRefused(Exception):  # noqa: N818 - the provider's answer, not our failure
    """The endpoint refused (invalid_grant, invalid_client, ...): retrying will not help."""

    def __init__(self, error: str, description: str = "") -> None:
        super().__init__(f"{error}: {description}" if description else error)
        self.error = error


class Unreachable(Exception):  # noqa: N818
    """The endpoint did not answer usefully (network, 5xx, not JSON): try again later."""
