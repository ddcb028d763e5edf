"""Mail as a customer's (or an agent's) client writes it: the demo's and the tests' builder."""

from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formatdate, make_msgid


def customer_mail(
    sender: str,
    subject: str,
    body: str,
    to: str,
    date: datetime | None = None,
    **headers: str,
) -> EmailMessage:
    """A plain mail; `Header_Name=` adds headers."""
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = sender, to, subject
    mail["Date"] = format_datetime(date) if date else formatdate(localtime=True)
    mail["Message-ID"] = make_msgid(domain="customer.example")
    for name, value in headers.items():
        mail[name.replace("_", "-")] = value
    mail.set_content(body)
    return mail
