"""dsn.py: the per-recipient lines of a delivery report, and Exim's header without one.

Pure: the reports are written here as MTAs write them (RFC 3464) and read through
message.parse, as intake reads them. One recipient's report, the permanence of an
action and X-Failed-Recipients alone are in tests/desk/test_bounces.py.
"""

from maildesk.mail import dsn
from maildesk.mail.message import parse

THREE_RECIPIENTS = b"""\
From: Mail Delivery System <MAILER-DAEMON@mx.example>
To: support@desk.example
Subject: Delivery Status Notification
X-Failed-Recipients: someone.else@other.example
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b"

--b
Content-Type: text/plain

Some of your recipients did not get your message.

--b
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example
Arrival-Date: Mon, 23 Nov 2026 02:05:00 +0000

Final-Recipient: rfc822; Ann.Lee@New-Host.example
Original-Recipient: rfc822; ann@customer.example
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 user unknown

Final-Recipient: <Bob@Customer.Example>
Action: Delayed
Status: 4.4.7
Diagnostic-Code: connection timed out
 after 3 days

Final-Recipient: rfc822; carol@customer.example
Action: failed
Status: 5.2.2

--b
Content-Type: text/rfc822-headers

Message-ID: <ours@desk.example>
Subject: [Ticket#1] Help please

--b--
"""


def test_each_recipient_block_is_one_report_in_order_and_the_header_is_ignored():
    ann, bob, carol = parse(THREE_RECIPIENTS).reports  # the per-message block is none
    assert ann == dsn.Report(
        final="ann.lee@new-host.example",
        original="ann@customer.example",
        action="failed",
        status="5.1.1",
        diagnostic="550 5.1.1 user unknown",
    )
    assert ann.names("ann@customer.example") and ann.names("ANN.LEE@new-host.example")
    assert not ann.names("bob@customer.example")
    assert ann.reason() == "failed 5.1.1 550 5.1.1 user unknown"
    assert (bob.final, bob.action, bob.permanent) == ("bob@customer.example", "delayed", False)
    assert bob.diagnostic == "connection timed out after 3 days", "untyped, unfolded"
    assert carol.reason() == "failed 5.2.2" and carol.permanent


def test_failed_recipients_header_lists_every_address_lowercased():
    raw = (
        b"From: MAILER-DAEMON@mx.example\n"
        b"X-Failed-Recipients: Ann Lee <ANN@customer.example>, bob@x.example\n"
        b"X-Failed-Recipients: undisclosed-recipients, carol@y.example\n"
        b"Subject: Mail delivery failed\n\nThe message could not be delivered.\n"
    )
    reports = parse(raw).reports
    assert [r.final for r in reports] == [
        "ann@customer.example",
        "bob@x.example",
        "carol@y.example",
    ]
    assert all(r.permanent and r.reason() == "failed" for r in reports), "no status: failed"


def test_a_mail_without_report_or_header_has_no_reports():
    assert parse(b"From: ann@customer.example\nSubject: hi\n\nhello\n").reports == ()


DELAYED_WITH_A_REPORT_INSIDE = b"""\
From: Mail Delivery System <MAILER-DAEMON@mx.example>
To: support@desk.example
Subject: Delivery delayed
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="outer"

--outer
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example

Final-Recipient: rfc822; ann@customer.example
Action: delayed
Status: 4.4.7

--outer
Content-Type: message/rfc822

From: support@desk.example
To: ann@customer.example
Subject: [Ticket#1] Fwd: a bounce Ann sent us
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="inner"

--inner
Content-Type: message/delivery-status

Reporting-MTA: dns; elsewhere.example

Final-Recipient: rfc822; ann@customer.example
Action: failed
Status: 5.1.1

--inner--

--outer--
"""


def test_a_report_inside_the_returned_mail_is_not_the_bounce_s_own():
    """The returned copy of our mail may quote another report (a bounce the customer
    forwarded us): only the outer report says what happened to our mail."""
    (report,) = parse(DELAYED_WITH_A_REPORT_INSIDE).reports
    assert report.final == "ann@customer.example" and report.action == "delayed"
    assert not report.permanent
