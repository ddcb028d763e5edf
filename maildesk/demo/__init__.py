"""`maildesk demo`: run.py the sample desk and its summary, servers.py the embedded
IMAP and SMTP servers on loopback it runs against."""
