"""The SASL strings that carry a bearer token: XOAUTH2 (Google's, Microsoft's) and
OAUTHBEARER (RFC 7628)."""

from collections.abc import Callable


def initial_response(mechanism: str, user: str, token: str, host: str, port: int) -> bytes:
    if mechanism == "oauthbearer":
        name = user.replace("=", "=3D").replace(",", "=2C")  # RFC 5801 saslname
        text = f"n,a={name},\x01host={host}\x01port={port}\x01auth=Bearer {token}\x01\x01"
    else:
        text = f"user={user}\x01auth=Bearer {token}\x01\x01"
    return text.encode()


def responder(
    mechanism: str, user: str, token: str, host: str, port: int
) -> Callable[[bytes], bytes]:
    """imaplib's authobject: the token first; to the error a refusing server sends as a
    challenge (JSON), an empty answer, so that it ends the exchange with NO."""
    sent: list[bool] = []

    def answer(_challenge: bytes) -> bytes:
        if sent:
            return b""
        sent.append(True)
        return initial_response(mechanism, user, token, host, port)

    return answer
