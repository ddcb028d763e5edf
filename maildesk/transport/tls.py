"""The one SSL context of every TLS connection the desk makes, and what a refusal means.

Given no context, imaplib verifies nothing (neither the certificate nor the
host name): anyone on the path could take the mailbox password. aiosmtplib
would verify by default, but both get this context, so one rule holds for
IMAP (ssl, starttls, the IDLE connection) and SMTP (ssl, starttls).

A certificate that does not verify is a ConfigError, not a TemporaryFailure:
retrying does not fix a wrong CA, host name or expired certificate, so
`poll --once` exits 2 and the daemon retries only slowly (daemon/backoff.py).
The same holds for a server that refuses our client certificate (or wants one).
"""

import ssl

from maildesk.config import Trust
from maildesk.errors import ConfigError

# X509_V_ERR_* codes meaning "no CA we trust signed this": unable to get the
# issuer, self-signed leaf, self-signed in chain, issuer not local, leaf unverifiable.
_UNKNOWN_ISSUER = {2, 18, 19, 20, 21}
# The alerts of a server that checked our client certificate and did not like it.
_CLIENT_CERT_ALERTS = (
    "TLSV13_ALERT_CERTIFICATE_REQUIRED",
    "SSLV3_ALERT_BAD_CERTIFICATE",
    "SSLV3_ALERT_CERTIFICATE_UNKNOWN",
    "TLSV1_ALERT_UNKNOWN_CA",
    "SSLV3_ALERT_CERTIFICATE_EXPIRED",
    "TLSV1_ALERT_ACCESS_DENIED",
)


def context(trust: Trust) -> ssl.SSLContext:
    """Certificate and host name checked (`ca_file`, when set, replaces the system's CAs),
    unless `verify` is false; our client certificate loaded when one is set."""
    try:
        found = ssl.create_default_context(cafile=trust.ca_file)
    except OSError as exc:  # ssl.SSLError too: a file with no PEM certificate in it
        key = trust.key("ca_file")
        raise ConfigError(f"{key}: cannot load {str(trust.ca_file)!r}: {exc}") from exc
    if not trust.verify:
        found.check_hostname = False
        found.verify_mode = ssl.CERT_NONE
    if trust.client_cert is not None:
        try:
            found.load_cert_chain(trust.client_cert, trust.client_key)
        except OSError as exc:  # a missing key, a key that is not the certificate's
            files = ", ".join(str(f) for f in (trust.client_cert, trust.client_key) if f)
            raise ConfigError(f"{trust.key('client_cert')}: cannot load {files}: {exc}") from exc
    return found


def raise_if_refused(exc: BaseException, service: str, host: str, port: int, trust: Trust) -> None:
    """Raise ConfigError when `exc` comes from a certificate that did not verify, or from a
    server that refused our client certificate.

    aiosmtplib wraps the ssl error in SMTPConnectError, so the causes are searched.
    """
    cause = _cause(exc, ssl.SSLError)
    if cause is None:
        return
    where = f"{service} {host}:{port}"
    if isinstance(cause, ssl.SSLCertVerificationError):
        unknown = cause.verify_code in _UNKNOWN_ISSUER
        hint = f" (set {trust.key('ca_file')} for a private CA)" if unknown else ""
        reason = cause.verify_message or str(cause)
        raise ConfigError(f"{where}: certificate verify failed: {reason}{hint}") from exc
    alert = cause.reason or ""
    if alert in _CLIENT_CERT_ALERTS:
        given = trust.client_cert is not None
        fix = f"check {trust.key('client_cert')}" if given else f"set {trust.key('client_cert')}"
        raise ConfigError(
            f"{where}: the server refused our client certificate ({alert}); {fix}"
        ) from exc


def _cause(exc: BaseException, kind: type[ssl.SSLError]) -> ssl.SSLError | None:
    """The first `kind` among `exc` and what caused it."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, kind):
            return cause
        cause = cause.__cause__ or cause.__context__
    return None
