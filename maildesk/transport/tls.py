"""The one SSL context of every TLS connection the desk makes, and what a refusal means.

Given no context, imaplib verifies nothing (neither the certificate nor the
host name): anyone on the path could take the mailbox password. aiosmtplib
would verify by default, but both get this context, so one rule holds for
IMAP (ssl, starttls, the IDLE connection) and SMTP (ssl, starttls).

A certificate that does not verify is a ConfigError, not a TemporaryFailure:
retrying does not fix a wrong CA, host name or expired certificate, so
`poll --once` exits 2 and the daemon retries only slowly (daemon/backoff.py).
"""

import ssl

from maildesk.config import Trust
from maildesk.errors import ConfigError

# X509_V_ERR_* codes meaning "no CA we trust signed this": unable to get the
# issuer, self-signed leaf, self-signed in chain, issuer not local, leaf unverifiable.
_UNKNOWN_ISSUER = {2, 18, 19, 20, 21}


def context(trust: Trust) -> ssl.SSLContext:
    """Certificate and host name checked; `ca_file`, when set, replaces the system's CAs."""
    try:
        return ssl.create_default_context(cafile=trust.ca_file)
    except OSError as exc:  # ssl.SSLError too: a file with no PEM certificate in it
        raise ConfigError(f"{trust.key}: cannot load {str(trust.ca_file)!r}: {exc}") from exc


def raise_if_refused(exc: BaseException, service: str, host: str, port: int, trust: Trust) -> None:
    """Raise ConfigError when `exc` comes from a certificate that did not verify.

    aiosmtplib wraps the ssl error in SMTPConnectError, so the causes are searched.
    """
    cause: BaseException | None = exc
    while cause is not None and not isinstance(cause, ssl.SSLCertVerificationError):
        cause = cause.__cause__
    if cause is None:
        return
    hint = f" (set {trust.key} for a private CA)" if cause.verify_code in _UNKNOWN_ISSUER else ""
    reason = cause.verify_message or str(cause)
    raise ConfigError(
        f"{service} {host}:{port}: certificate verify failed: {reason}{hint}"
    ) from exc
