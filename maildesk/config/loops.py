"""`[loops]` and `[bounces]`: what keeps automatic mail from looping or silencing people."""

from maildesk.config.settings import BouncesConfig, Config, LoopsConfig
from maildesk.config.toml_table import Table
from maildesk.errors import ConfigError

# Characters of a plain local part that are no letter, digit or dot: a sub-address may
# start at one (Postfix's recipient_delimiter, qmail's "-").
SEPARATORS = "+-=_~!#$%&'*/?^`{|}"
MAX_RETURN_LOCAL = 32  # the signed token takes up to 31 of a local part's 64 octets
_NOT_PLAIN = ' "<>,;:()[]\\'


def loops(t: Table | None) -> LoopsConfig:
    t = t or Table({}, "loops")
    default = LoopsConfig()
    found = LoopsConfig(
        max_per_address_per_day=t.count(
            "max_per_address_per_day", default.max_per_address_per_day
        ),
        max_per_ticket_per_hour=t.count(
            "max_per_ticket_per_hour", default.max_per_ticket_per_hour
        ),
        no_reply=t.regex("no_reply_regex") or default.no_reply,
        max_per_domain_per_day=t.count("max_per_domain_per_day", default.max_per_domain_per_day),
        subaddress_separator=_separator(t, default.subaddress_separator),
    )
    t.reject_unknown()
    return found


def _separator(t: Table, default: str) -> str:
    value = t.get("subaddress_separator", str, default)
    if value and (len(value) > 1 or value not in SEPARATORS):
        raise ConfigError(
            f"{t.key('subaddress_separator')}: must be one of the characters {SEPARATORS}"
            f' (usually +), or "" to count sub-addresses apart; got {value!r}'
        )
    return value


def bounces(t: Table | None) -> BouncesConfig:
    t = t or Table({}, "bounces")
    return_path = t.get("return_path", str, None)
    if return_path is not None:
        _check_return_path(t.key("return_path"), return_path)
    found = BouncesConfig(return_path=return_path)
    t.reject_unknown()
    return found


def _check_return_path(key: str, address: str) -> None:
    """A plain ASCII local@domain whose local part leaves room for the token."""
    local, at, domain = address.rpartition("@")
    plain = address.isascii() and address.isprintable()
    if not (at and local and "." in domain and plain) or any(c in address for c in _NOT_PLAIN):
        raise ConfigError(f"{key}: {address!r} is not a plain local@domain address")
    if len(local) > MAX_RETURN_LOCAL:
        raise ConfigError(
            f"{key}: the local part {local!r} is over {MAX_RETURN_LOCAL} characters;"
            " the signed token must fit after it (64 at most)"
        )


def check_return_path_apart(config: Config) -> None:
    """The return path is no address customers write to: all mail to it is taken as a
    bounce, never answered."""
    return_path = config.bounces.return_path
    if return_path is None:
        return
    named = [("smtp.from_address", config.smtp.from_address if config.smtp else None)]
    for mailbox in config.mailboxes:
        named += [(f"the address of mailbox {mailbox.name!r}", mailbox.address)]
        named += [(f"the username of mailbox {mailbox.name!r}", mailbox.imap.username)]
    named += [(f"teams[{n}].address", team.address) for n, team in enumerate(config.teams)]
    wanted = return_path.lower()
    for key, address in named:
        if address and address.lower() == wanted:
            raise ConfigError(
                f"bounces.return_path: {return_path!r} is also {key}; mail to the return path"
                " is taken as a bounce and never answered, so it needs an address of its own"
            )
