"""Which addresses we send to (`deliverable`), and the mailbox an address reaches (`mailbox`).

An acknowledgement goes to an address the sender wrote, so only the plain
shape `local@host.name` is answered: a dot-atom local part (non-ASCII letters
allowed) and a hostname domain (IDNs allowed). A quoted local part can hide a
comma that another program splits on, and a display name, a bracket or a
second address means the parser did not find exactly one address.

Counting mail per address string lets `victim+1@`, `victim+2@` and `VICTIM@`
each have a budget of their own; `mailbox` names what they all reach.
`masked` keeps only the domains of the addresses in a text, for the log.
"""

import re
import unicodedata

from maildesk.mail.plaintext import is_control

MAX_LENGTH = 254  # RFC 5321: a path is 256 octets, its angle brackets included
MAX_LOCAL = 64
_ATEXT = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~"
)
# An address inside free text (a server's reply): its local part, then its domain.
_ADDRESS_IN_TEXT = re.compile(r"[^\s<>()\[\]{},;:'\"]+@([\w.-]+)")
_LDH = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")


def deliverable(address: str) -> str | None:
    """Why we would not deliver automatic mail to `address`, or None when we would."""
    local, at, domain = address.rpartition("@")
    problems = (
        (not address, "no address"),
        (_octets(address) > MAX_LENGTH, f"over {MAX_LENGTH} bytes"),
        (any(is_control(ch) for ch in address), "a control character or line break"),
        ("<" in address or ">" in address, "angle brackets"),
        ('"' in address, "a quoted local part"),
        ("," in address, "more than one address"),
        (any(ch.isspace() for ch in address), "white space"),
        (not at or not domain, "no domain"),
        (_octets(local) > MAX_LOCAL, f"a local part over {MAX_LOCAL} bytes"),
        (not _dot_atom(local), "a local part that is not a dot-atom"),
        (not _hostname(domain), "a domain that is not a hostname"),
    )
    return next((reason for found, reason in problems if found), None)


def _octets(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def _international(ch: str) -> bool:
    """A non-ASCII letter, mark or digit: allowed in internationalised addresses."""
    return not ch.isascii() and unicodedata.category(ch)[0] in "LMN"


def _dot_atom(local: str) -> bool:
    """RFC 5322 dot-atom: atoms of atext joined by single dots."""
    return all(
        atom and all(ch in _ATEXT or _international(ch) for ch in atom)
        for atom in local.split(".")
    )


def _hostname(domain: str) -> bool:
    """Two or more labels of letters, digits and inner hyphens; not an IP address."""
    labels = domain.split(".")
    return len(labels) > 1 and not labels[-1].isdigit() and all(map(_label, labels))


def _label(label: str) -> bool:
    if not label or label[0] == "-" or label[-1] == "-":
        return False
    if not all(ch in _LDH or _international(ch) for ch in label):
        return False
    try:
        label.encode("idna")  # the ASCII form must fit: 63 characters
    except UnicodeError:
        return False
    return True


def mailbox(address: str, separator: str = "+") -> str:
    """The mailbox `address` reaches, to count mail by: the local part case-folded and its
    sub-address (from `separator` on; "" keeps it) removed, the domain in A-labels.

    Folding more than a given server does only makes a budget stricter, never looser.
    """
    local, at, domain = address.rpartition("@")
    if not at:
        return _fold(address)
    # A leading separator is part of the name ("+team"), not a sub-address of nobody.
    cut = local.find(separator, 1) if separator else -1
    if cut > 0:
        local = local[:cut]
    return f"{_fold(local)}@{a_labels(domain)}"


def a_labels(domain: str) -> str:
    """The domain as DNS knows it: lower case, punycode for IDN labels (`xn--...`)."""
    folded = _fold(domain).rstrip(".")
    try:
        return folded.encode("idna").decode("ascii")
    except UnicodeError:  # no valid hostname: compared as folded text
        return folded


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def same_address(one: str, other: str) -> bool:
    """One address written two ways: the same local part (its case is the receiving
    server's to fold, RFC 5321) at the same domain in any case or form (IDN)."""
    local, at, domain = one.rpartition("@")
    other_local, other_at, other_domain = other.rpartition("@")
    return (
        bool(at and other_at)
        and local == other_local
        and a_labels(domain) == a_labels(other_domain)
    )


def pattern(address: str) -> str:
    """A regular expression finding `address` in text, its domain in any case."""
    local, _, domain = address.rpartition("@")
    return f"{re.escape(local)}@(?i:{re.escape(domain)})"


def masked(text: str) -> str:
    """`text` with every address cut to its domain (`…@shop.example`): what a log at INFO
    and above may show of a customer (an SMTP reply often names the recipient)."""
    return _ADDRESS_IN_TEXT.sub(lambda found: f"…@{found.group(1)}", text)
