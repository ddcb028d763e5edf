"""What a valid config may still do unsafely: TLS that checks nothing, a password in
plain text over the network. `maildesk run` logs each at start, `doctor` warns."""

import ipaddress

from maildesk.config.settings import Config, ImapConfig, SmtpConfig


def is_loopback(host: str) -> bool:
    """`localhost` (and names under it, RFC 6761) or a loopback address; names are never
    looked up, so a config is judged the same on every machine."""
    name = host.strip("[]").rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def cautions(config: Config) -> list[str]:
    """One sentence per connection that is not verified TLS to a remote host."""
    servers: list[tuple[str, ImapConfig | SmtpConfig]] = [
        (m.imap.trust.section, m.imap) for m in config.mailboxes
    ]
    if config.smtp is not None:
        servers.append(("smtp", config.smtp))
    return [text for section, server in servers if (text := caution(section, server))]


def caution(section: str, server: ImapConfig | SmtpConfig) -> str | None:
    if server.security == "none" and not is_loopback(server.host):
        return (
            f"{section}.allow_plaintext: {server.host} is reached in plain text; anyone on"
            " the path can read the password and the mail"
        )
    if server.security != "none" and not server.trust.verify:
        return (
            f"{section}.verify = false: the certificate of {server.host} is not checked;"
            " anyone on the path can pose as the server and take the password"
        )
    return None
