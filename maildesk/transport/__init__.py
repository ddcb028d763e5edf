"""The network edges: the IMAP inbox (imap-tools) and the SMTP outbox (aiosmtplib)."""
