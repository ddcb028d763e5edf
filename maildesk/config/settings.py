"""The settings as frozen dataclasses, one per TOML section; loading.py fills them.

Secrets are never in the file: keys ending in `_env` name environment
variables (`_file`, files), read when first needed (secrets.py, which also
looks in systemd's and the container's credential folders).
"""

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo

from maildesk.config.calendars import CalendarConfig
from maildesk.config.logs import LogConfig
from maildesk.config.metrics import MetricsConfig
from maildesk.config.oauth2 import OAuth2Config
from maildesk.config.retention import RetentionConfig
from maildesk.config.secrets import Secret
from maildesk.config.service_levels import PRIORITIES, SlaConfig
from maildesk.config.surveys import SurveyConfig, WebConfig

__all__ = ["PRIORITIES", "Secret"]  # re-exported: they belong to the levels and the secrets

ROLES = ("agent", "lead", "admin")
ASSIGN_MODES = ("none", "round_robin", "least_open")
SECURITY_MODES = ("ssl", "starttls", "none")
# Addresses that never get automatic mail (Zammad's and Znuny's lists, anchors.md §3.3).
DEFAULT_NO_REPLY = (
    r"(?i)^(mailer-daemon|postmaster|abuse|root|no[-_.]?reply|do[-_.]?not[-_.]?reply|bounces?)"
    r"([+.\-_].*)?@"
)


@dataclass(frozen=True)
class DeskConfig:
    name: str
    subject_tag: str
    timezone: str
    default_locale: str
    secret: Secret
    instance: str
    templates_dir: Path | None
    default_team: str | None = None  # where tickets no rule routes go (default: first team)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class IntakeConfig:
    ack_follow_ups: bool
    max_attachment_bytes: int
    max_message_bytes: int
    parse_seconds: float
    parse_memory_mb: int


@dataclass(frozen=True)
class LoopsConfig:
    """Budget of automatic mail to customers; defaults from Znuny (per address) and Zammad.

    The address budget counts mailboxes: `a+1@x` and `A@x` count as `a@x`
    (`subaddress_separator`, "" to count sub-addresses apart).
    """

    max_per_address_per_day: int = 40
    max_per_ticket_per_hour: int = 25
    no_reply: re.Pattern[str] = re.compile(DEFAULT_NO_REPLY)
    max_per_domain_per_day: int = 500  # 0: no cap per domain
    subaddress_separator: str = "+"


@dataclass(frozen=True)
class BouncesConfig:
    """`return_path`: the address whose signed sub-addresses are our mail's MAIL FROM (VERP);
    None sends with the From address and trusts no single delivery report."""

    return_path: str | None = None


@dataclass(frozen=True)
class DatabaseConfig:
    url: str
    busy_timeout: float = 30.0  # seconds to wait for another writer's lock (both databases)
    password: Secret = Secret("database.password_env", "")  # PostgreSQL's, kept out of url


@dataclass(frozen=True)
class Trust:
    """How a TLS connection checks the server, and the certificate we show it.

    The server's certificate is checked against the system's CAs, or only
    those in `ca_file`; `verify = false` checks nothing (warned of at start and
    by `doctor`). `client_cert` (with `client_key`, unless the key is in the
    same file) is sent to a server that asks for one. `section` (`imap`,
    `mailboxes[1]`, `smtp`) names the keys in the messages, so the operator
    knows what to set.
    """

    section: str
    ca_file: Path | None = None
    verify: bool = True
    client_cert: Path | None = None
    client_key: Path | None = None

    def key(self, name: str) -> str:
        return f"{self.section}.{name}"


@dataclass(frozen=True)
class ImapConfig:
    host: str
    port: int
    security: str
    username: str
    password: Secret
    folder: str
    processed_folder: str
    quarantine_folder: str
    poll_interval: float
    idle: bool
    timeout: float
    trust: Trust
    auth: str = "password"  # or "oauth2", with `oauth2` set
    oauth2: OAuth2Config | None = None


@dataclass(frozen=True)
class MailboxConfig:
    """One support mailbox: its IMAP account, the From address of the mail its tickets
    get (else smtp.from_address), and the team of its new tickets (a rule's team wins).
    """

    name: str
    imap: ImapConfig
    address: str | None = None
    team: str | None = None


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    security: str
    username: str
    password: Secret
    from_address: str
    timeout: float
    trust: Trust
    auth: str = "password"  # or "oauth2", with `oauth2` set
    oauth2: OAuth2Config | None = None


@dataclass(frozen=True)
class OutboxConfig:
    max_attempts: int
    retry_base_seconds: float
    retry_max_seconds: float
    batch_size: int
    drain_interval: float
    claim_seconds: float = 300.0  # a worker's hold on the mails it is sending
    connections: int = 3  # SMTP connections a drain sends its batch over at once


@dataclass(frozen=True)
class Rule:
    """One classification rule; every condition given must match."""

    name: str
    priority: str | None = None
    category: str | None = None
    team: str | None = None
    from_regex: re.Pattern[str] | None = None
    sender_domains: tuple[str, ...] = ()
    subject_regex: re.Pattern[str] | None = None
    body_regex: re.Pattern[str] | None = None
    headers: tuple[tuple[str, re.Pattern[str]], ...] = ()


@dataclass(frozen=True)
class AgentConfig:
    """A person who works tickets by email; `addresses` are more addresses of theirs."""

    email: str
    name: str
    team: str | None
    role: str = "agent"
    addresses: tuple[str, ...] = ()

    @property
    def all_addresses(self) -> tuple[str, ...]:
        return (self.email, *self.addresses)


@dataclass(frozen=True)
class TeamConfig:
    """A group of agents: new tickets of the team are assigned inside it by `assign`.

    Mail written to `address` goes to this team; `leads` (agent emails) hear
    of the team's tickets that nobody takes.
    """

    name: str
    address: str | None = None
    leads: tuple[str, ...] = ()
    assign: str = "round_robin"
    calendar: str | None = None  # the team's working hours (else "default")


@dataclass(frozen=True)
class AgentMailConfig:
    """How an agent's mail proves who sent it, beyond our signed reference.

    `[agent_mail]` rather than `[agents]`: TOML cannot have both an `[agents]`
    table and the `[[agents]]` list.
    """

    require_authentication_results: bool = False
    authserv_id: str = ""
    proof_max_age_days: float = 30.0  # a reply to an older mail of ours proves nothing
    # Past this many staff notices an hour caused by one sender, the rest are folded
    # into one notice at the end of the hour (desk/notice_cap.py); 0: no cap.
    max_notices_per_sender_per_hour: int = 10


@dataclass(frozen=True)
class KbConfig:
    """`[kb]`: the admins' article files, and the match a suggestion needs (config/kb.py)."""

    dir: Path | None = None  # Markdown files with front matter, loaded like templates
    min_score: float = 0.21  # below it, no suggestion: none is better than a wrong one
    suggestions: int = 3  # at most, in the acknowledgement and agents' notifications


@dataclass(frozen=True)
class Config:
    desk: DeskConfig
    database: DatabaseConfig
    mailboxes: tuple[MailboxConfig, ...]
    smtp: SmtpConfig | None
    outbox: OutboxConfig
    intake: IntakeConfig
    rules: tuple[Rule, ...] = field(default_factory=tuple)
    loops: LoopsConfig = field(default_factory=LoopsConfig)
    agents: tuple[AgentConfig, ...] = ()
    teams: tuple[TeamConfig, ...] = ()
    agent_mail: AgentMailConfig = field(default_factory=AgentMailConfig)
    sla: SlaConfig = field(default_factory=SlaConfig)
    calendars: tuple[CalendarConfig, ...] = ()  # always holds "default" once loaded
    survey: SurveyConfig = field(default_factory=SurveyConfig)
    web: WebConfig = field(default_factory=WebConfig)
    bounces: BouncesConfig = field(default_factory=BouncesConfig)
    kb: KbConfig = field(default_factory=KbConfig)
    retention: RetentionConfig = field(default_factory=RetentionConfig)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    log: LogConfig = field(default_factory=LogConfig)
    path: Path | None = None

    def agent(self, address: str) -> AgentConfig | None:
        """The agent who owns `address` (any of theirs), case-insensitively."""
        return self._agents_by_address.get(address.lower())

    @cached_property
    def _agents_by_address(self) -> dict[str, AgentConfig]:
        """Every address of every agent, lower-cased; the first agent listed wins a clash."""
        found: dict[str, AgentConfig] = {}
        for agent in self.agents:
            for address in agent.all_addresses:
                found.setdefault(address.lower(), agent)
        return found

    def team(self, name: str | None) -> TeamConfig | None:
        return next((t for t in self.teams if t.name == name), None)

    def members(self, team: str | None) -> tuple[AgentConfig, ...]:
        return tuple(a for a in self.agents if team is not None and a.team == team)

    def mailbox(self, name: str | None) -> MailboxConfig | None:
        """The mailbox called `name` (a ticket's), if it is still configured."""
        return next((m for m in self.mailboxes if m.name == name), None)

    def own_addresses(self) -> tuple[str, ...]:
        """The desk's own addresses: mail from them is never answered automatically."""
        found = [m.address for m in self.mailboxes] + [t.address for t in self.teams]
        found += [self.sender_for(None), self.bounces.return_path]
        return tuple(address for address in found if address)

    def sender_for(self, mailbox: str | None) -> str:
        """The From address of mail on a ticket that came in by `mailbox`."""
        found = self.mailbox(mailbox)
        if found is not None and found.address:
            return found.address
        return self.smtp.from_address if self.smtp else f"maildesk@{self.desk.instance}"
