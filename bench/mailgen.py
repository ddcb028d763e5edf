"""Seeded generator of realistic support mail, written into an mbox.

Why it exists: the ingest and poll benchmarks (and those to come) need the
same kind of mail a support desk receives, in volume and reproducibly: mixed
sizes (short notes to long mails with pasted logs), charsets, attachments of
2-200 KB, ~25% follow-ups with In-Reply-To, a few auto-replies and DSN bounces.
The same seed and N give the same bytes. What the mails say is in mailtext.py,
how they are encoded in mailmime.py.

    import mailgen
    mix = mailgen.write_mbox(Path("mails.mbox"), 2000, seed=20261123)
"""

from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.generator import BytesGenerator
from email.message import EmailMessage, Message
from io import BytesIO
from pathlib import Path
from random import Random

from mailmime import (
    LEGACY,
    MAILERS,
    STYLES,
    attach,
    dsn,
    fit_style,
    fix_boundaries,
    legacy_body,
    modern_body,
    set_headers,
)
from mailtext import (
    DOMAINS,
    EN_SUBJECTS,
    FR_SUBJECTS,
    NAMES,
    START,
    ZH_SUBJECTS,
    Customer,
    Earlier,
    body_text,
    quoted,
    without_prefix,
)


@dataclass(frozen=True)
class Generated:
    """One generated mail, its mbox envelope sender and date, and tags for the mix."""

    tags: tuple[str, ...]
    envelope_from: str
    date: datetime
    message: Message


class MailGenerator:
    """Seeded stream of support mail; keeps only a bounded window of earlier mails."""

    def __init__(self, seed: int, customers: int) -> None:
        """Draw `customers` senders from the seed."""
        self.rng = Random(seed)
        self.seed = seed
        self.now = START
        self.index = 0
        self.history: deque[Earlier] = deque(maxlen=500)
        self.customers = [self._customer(i) for i in range(customers)]

    def _customer(self, i: int) -> Customer:
        """Customer number `i`, in a language drawn by weight."""
        lang = self.rng.choices(("en", "zh", "fr"), (55, 35, 10))[0]
        name = self.rng.choice(NAMES[lang])
        local = f"user{i}" if lang != "en" else name.lower().replace(" ", ".").replace("'", "")
        return Customer(name, f"{local}{i}@{self.rng.choice(DOMAINS)}", lang)

    def mails(self, n: int) -> Iterator[Generated]:
        """The next `n` mails, about 90 s apart on average."""
        for _ in range(n):
            self.index += 1
            self.now += timedelta(seconds=self.rng.expovariate(1 / 90))
            yield self._next()

    def _next(self) -> Generated:
        """A follow-up, auto-reply, bounce or new mail, drawn by weight."""
        roll = self.rng.random()
        if self.history and roll < 0.25:
            return self._human("follow-up", self.rng.choice(self.history))
        if self.history and roll < 0.27:
            return self._auto_reply(self.rng.choice(self.history))
        if self.history and roll < 0.285:
            return self._bounce(self.rng.choice(self.history))
        return self._human("new", None)

    def _message_id(self, customer: Customer) -> str:
        """A unique Message-ID in the sender's domain."""
        domain = customer.address.rpartition("@")[2]
        return f"<{self.seed:x}.{self.index:07d}.{self.rng.getrandbits(40):010x}@{domain}>"

    def _human(self, kind: str, earlier: Earlier | None) -> Generated:
        """A mail a customer writes: new, or a follow-up quoting `earlier`."""
        rng = self.rng
        sender = rng.choice(self.customers) if earlier is None else earlier.sender
        tier, text, subject = self._compose(sender, earlier)
        styles, weights = STYLES[sender.lang]
        style = fit_style(rng.choices(styles, weights)[0], text)
        legacy = LEGACY.get(style)
        msg, cte = legacy_body(style, text) if legacy else modern_body(rng, style, text)
        tags = [f"kind={kind}", f"body={style}", f"cte={cte}", f"size={tier}"]
        if rng.random() < 0.12:
            count = rng.choices((1, 2, 3), (70, 25, 5))[0]
            msg = attach(rng, msg, count)
            tags += ["attach=mails"] + ["attach=files"] * count
        message_id = self._message_id(sender)
        set_headers(msg, sender, subject, self.now, message_id, legacy)
        msg["X-Mailer"] = rng.choice(MAILERS)
        references = ""
        if earlier is not None:
            references = f"{earlier.references} {earlier.message_id}".strip()
            msg["In-Reply-To"] = earlier.message_id
            msg["References"] = references
        self._remember(message_id, references, subject, sender, text)
        return Generated(tuple(tags), sender.address, self.now, msg)

    def _compose(self, sender: Customer, earlier: Earlier | None) -> tuple[str, str, str]:
        """(size tier, text, subject); a follow-up quotes the mail it answers."""
        tier, text = body_text(self.rng, sender)
        subjects = {"en": EN_SUBJECTS, "zh": ZH_SUBJECTS, "fr": FR_SUBJECTS}[sender.lang]
        subject = self.rng.choice(subjects)
        if earlier is not None:
            text += quoted(earlier, sender.lang)
            subject = ("回复：" if sender.lang == "zh" else "Re: ") + earlier.subject
        return tier, text, subject

    def _remember(
        self, message_id: str, references: str, subject: str, sender: Customer, text: str
    ) -> None:
        """Keep what a later follow-up, auto-reply or bounce of this mail needs."""
        last = " ".join(references.split()[-9:])
        excerpt = text[:400].strip()
        earlier = Earlier(message_id, last, without_prefix(subject), sender, self.now, excerpt)
        self.history.append(earlier)

    def _auto_reply(self, earlier: Earlier) -> Generated:
        """An out-of-office reply from the sender of `earlier`."""
        sender = earlier.sender
        msg = EmailMessage()
        msg.set_content(
            f"I am out of the office until {self.now + timedelta(days=7):%d %B}.\n"
            "For urgent matters please call +1 555 0100.\n"
        )
        prefix = "自动回复: " if sender.lang == "zh" else "Automatic reply: "
        set_headers(
            msg, sender, prefix + earlier.subject, self.now, self._message_id(sender), None
        )
        msg["In-Reply-To"] = earlier.message_id
        msg["Auto-Submitted"] = "auto-replied"
        msg["X-Auto-Response-Suppress"] = "All"
        return Generated(("kind=auto-reply", "body=utf-8"), sender.address, self.now, msg)

    def _bounce(self, earlier: Earlier) -> Generated:
        """A DSN from the customer's MTA returning `earlier`."""
        msg = dsn(earlier, self.rng)
        daemon = Customer("Mail Delivery System", "MAILER-DAEMON@mx.customer.example", "en")
        set_headers(
            msg,
            daemon,
            "Undelivered Mail Returned to Sender",
            self.now,
            self._message_id(daemon),
            None,
        )
        msg["Return-Path"] = "<>"
        return Generated(("kind=bounce", "body=report"), "MAILER-DAEMON", self.now, msg)


def write_mbox(path: Path, n: int, seed: int) -> Counter[str]:
    """Stream N generated mails into an mbox file (one in memory at a time); the mix."""
    mix: Counter[str] = Counter()
    generator = MailGenerator(seed, customers=max(50, n // 8))
    with path.open("wb") as out:
        for mail in generator.mails(n):
            fix_boundaries(mail.message, generator.index)
            buffer = BytesIO()
            BytesGenerator(buffer, mangle_from_=True, policy=mail.message.policy).flatten(
                mail.message
            )
            data = buffer.getvalue()
            out.write(f"From {mail.envelope_from} {mail.date:%a %b %d %H:%M:%S %Y}\n".encode())
            out.write(data if data.endswith(b"\n") else data + b"\n")
            out.write(b"\n")
            mix.update(mail.tags)
            mix["bytes"] += len(data)
            if "attach=mails" in mail.tags:
                mix["attach=bytes"] += sum(
                    len(p.get_payload(decode=True) or b"")
                    for p in mail.message.walk()
                    if p.get_filename()
                )
    return mix
