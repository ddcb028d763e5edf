"""Config validation: every error names its key; defaults fill what is left out."""

from pathlib import Path

import pytest

from maildesk.config import Trust, load, parse
from maildesk.config.cautions import cautions
from maildesk.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
MINIMAL = {"desk": {"name": "D"}, "database": {"url": "sqlite://"}}


def with_(**sections) -> dict:
    return {**MINIMAL, **sections}


def test_example_config_is_valid_and_complete():
    config = load(ROOT / "config.example.toml")
    (mailbox,) = config.mailboxes
    assert mailbox.name == "default" and mailbox.imap.security == "ssl"
    assert mailbox.imap.port == 993
    assert config.smtp.port == 587 and config.outbox.max_attempts == 8
    assert [r.priority for r in config.rules][:2] == ["P0", "P0"]
    assert (config.kb.dir, config.kb.min_score, config.kb.suggestions) == (None, 0.21, 3)


def test_defaults():
    config = parse(with_(smtp={"host": "h", "from_address": "s@x.example"}))
    assert config.desk.subject_tag == "[Ticket#{number}]"
    assert config.desk.instance == "x.example"
    assert config.mailboxes == () and config.smtp.security == "starttls"
    assert config.intake.ack_follow_ups is False


IMAP = {"host": "h", "username": "u", "password_env": "P"}


def test_mailboxes_each_have_an_account_a_from_address_and_a_team():
    config = parse(
        with_(
            smtp={"host": "h", "from_address": "support@x.example"},
            mailboxes=[
                IMAP | {"name": "sales", "address": "sales@x.example", "team": "sales"},
                IMAP | {"username": "billing@x.example", "folder": "Billing"},
            ],
        )
    )
    sales, billing = config.mailboxes
    assert (sales.name, sales.address, sales.team) == ("sales", "sales@x.example", "sales")
    assert billing.name == "billing@x.example" and billing.imap.folder == "Billing"
    assert config.sender_for("sales") == "sales@x.example"
    assert config.sender_for("billing@x.example") == "support@x.example", "no address: smtp's"
    assert config.sender_for(None) == "support@x.example"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            with_(imap=IMAP, mailboxes=[IMAP]),
            "imap: give either [imap] or [[mailboxes]], not both",
        ),
        (
            with_(mailboxes=[IMAP | {"name": "a"}, IMAP | {"name": "a"}]),
            "mailboxes[1].name: 'a' is used twice",
        ),
        (
            with_(mailboxes=[IMAP | {"address": "nowhere"}]),
            "mailboxes[0].address: 'nowhere' is not an address",
        ),
        (with_(mailboxes=[IMAP | {"colour": "red"}]), "mailboxes[0].colour: unknown key"),
        (with_(mailboxes=[{"host": "h"}]), "mailboxes[0].username: required key is missing"),
        ({"database": {"url": "sqlite://"}}, "desk: required section is missing"),
        (with_(desk={"name": 5}), "desk.name: must be str, got int 5"),
        (with_(desk={"name": "D", "subject_tag": "[T]"}), "desk.subject_tag: must contain"),
        (with_(desk={"name": "D", "timezone": "Mars/Base"}), "desk.timezone: unknown time zone"),
        (
            with_(imap={"host": "h", "username": "u", "password_env": "P", "security": "tls"}),
            "imap.security: 'tls' is not one of ssl, starttls, none",
        ),
        (
            with_(imap={"host": "h", "username": "u", "password_env": "P", "port": 70000}),
            "imap.port: 70000 is not a TCP port",
        ),
        (
            with_(imap={"host": "h", "username": "u", "password_env": "P", "idle": "yes"}),
            "imap.idle: must be bool",
        ),
        (
            with_(imap={"host": "h", "username": "u", "password_env": "P", "poll_interval": 0}),
            "imap.poll_interval: must be greater than 0",
        ),
        (with_(smtp={"host": "h", "from_address": "nobody"}), "smtp.from_address: 'nobody'"),
        (with_(rules=[{"name": "r", "priority": "P1"}]), "rules[0]: a rule needs at least one"),
        (
            with_(
                rules=[
                    {"name": "r", "subject_regex": "x"},
                    {"name": "s", "subject_regex": "y", "priority": "high"},
                ]
            ),
            "rules[1].priority: 'high' is not one of P0..P3",
        ),
        (
            with_(rules=[{"name": "r", "subject_regex": "x", "colour": "red"}]),
            "rules[0].colour: unknown key",
        ),
        (with_(surprise={}), "surprise: unknown key"),
        (with_(metrics={"listen": "9108"}), "metrics.listen: '9108' is not host:port"),
        (with_(metrics={"port": 9108}), "metrics.port: unknown key"),
        (with_(imap=IMAP | {"ca_file": "/no/ca.pem"}), "imap.ca_file: no file '/no/ca.pem'"),
        (
            with_(smtp={"host": "h", "from_address": "s@x.example", "ca_file": "ca.pem"}),
            "smtp.ca_file: no file 'ca.pem'",
        ),
        (
            with_(mailboxes=[IMAP | {"security": "none", "ca_file": "ca.pem"}]),
            "mailboxes[0].ca_file: only used with security = ssl or starttls",
        ),
    ],
)
def test_errors_name_the_key(data, message):
    with pytest.raises(ConfigError) as error:
        parse(data)
    assert message in str(error.value)


def test_a_private_ca_is_kept_with_the_key_that_names_it(tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text("a CA certificate\n")
    config = parse(
        with_(
            smtp={"host": "h", "from_address": "s@x.example", "ca_file": str(ca)},
            mailboxes=[IMAP, IMAP | {"name": "b", "ca_file": str(ca)}],
        )
    )
    assert config.smtp.trust == Trust("smtp", ca)
    assert [m.imap.trust for m in config.mailboxes] == [
        Trust("mailboxes[0]"),
        Trust("mailboxes[1]", ca),
    ]
    assert config.smtp.trust.key("ca_file") == "smtp.ca_file"


def test_integers_are_accepted_where_seconds_are_floats():
    config = parse(with_(outbox={"retry_base_seconds": 5}))
    assert config.outbox.retry_base_seconds == 5.0


def test_missing_file_and_bad_toml(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[desk\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load(bad)


AGENTS = [
    {
        "email": "lin@desk.example",
        "name": "Lin",
        "team": "support",
        "addresses": ["lin@home.example"],
    },
    {"email": "wang@desk.example", "name": "Wang", "team": "support", "role": "lead"},
]
TEAMS = [{"name": "support", "leads": ["wang@desk.example"], "assign": "least_open"}]


def test_agents_and_teams():
    config = parse(
        with_(agents=AGENTS, teams=TEAMS, agent_mail={"authserv_id": "mx.desk.example"})
    )
    assert config.agent("LIN@home.example").name == "Lin", "any address of theirs, any case"
    assert config.agent("stranger@x.example") is None
    assert [a.name for a in config.members("support")] == ["Lin", "Wang"]
    assert config.team("support").assign == "least_open"
    assert config.desk.default_team == "support", "the first team when none is named"
    assert config.agent_mail.require_authentication_results is False
    assert config.agent_mail.proof_max_age_days == 30, "a month, unless set"
    assert config.agent_mail.max_notices_per_sender_per_hour == 10, "the default cap"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            with_(agents=[AGENTS[0]], teams=[]),
            "agents[0].team: no team called 'support' in [[teams]]",
        ),
        (
            with_(agents=[AGENTS[0], AGENTS[0] | {"email": "lin@home.example"}], teams=TEAMS),
            "agents[1]: address 'lin@home.example' is already agents[0]'s",
        ),
        (
            with_(agents=AGENTS, teams=[TEAMS[0] | {"leads": ["boss@x.example"]}]),
            "teams[0].leads: 'boss@x.example' is not the email of an agent",
        ),
        (
            with_(agents=AGENTS, teams=[TEAMS[0] | {"assign": "random"}]),
            "teams[0].assign: 'random' is not one of none, round_robin, least_open",
        ),
        (with_(agents=[AGENTS[1] | {"role": "boss"}], teams=TEAMS), "agents[0].role"),
        (with_(agents=[{"email": "nobody", "name": "N"}]), "agents[0].email: 'nobody' is not"),
        (
            with_(desk={"name": "D", "default_team": "sales"}, agents=AGENTS, teams=TEAMS),
            "desk.default_team: no team called 'sales' in [[teams]]",
        ),
        (
            with_(agent_mail={"require_authentication_results": True}),
            "agent_mail.authserv_id: required when require_authentication_results is true",
        ),
        (
            with_(agent_mail={"proof_max_age_days": 0}),
            "agent_mail.proof_max_age_days: must be greater than 0, got 0",
        ),
        (
            with_(agent_mail={"proof_max_age_days": "30d"}),
            "agent_mail.proof_max_age_days: must be float, got str '30d'",
        ),
        (
            with_(agent_mail={"max_notices_per_sender_per_hour": -1}),
            "agent_mail.max_notices_per_sender_per_hour: must be 0 or more, got -1",
        ),
        (
            with_(agent_mail={"max_notices_per_sender_per_hour": "10"}),
            "agent_mail.max_notices_per_sender_per_hour: must be int, got str '10'",
        ),
    ],
)
def test_bad_agents_and_teams_name_the_key(data, message):
    with pytest.raises(ConfigError) as caught:
        parse(data)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            with_(imap=IMAP | {"host": "mail.example.com", "security": "none"}),
            "imap.security: \"none\" sends the password in plain text and 'mail.example.com'"
            " is not loopback; use ssl or starttls, or set imap.allow_plaintext = true",
        ),
        (
            with_(smtp={"host": "10.0.0.5", "from_address": "s@x.example", "security": "none"}),
            "smtp.security: \"none\" sends the password in plain text and '10.0.0.5' is not"
            " loopback; use ssl or starttls, or set smtp.allow_plaintext = true",
        ),
        (
            with_(mailboxes=[IMAP | {"security": "none", "verify": False}]),
            "mailboxes[0].verify: only used with security = ssl or starttls",
        ),
        (
            with_(imap=IMAP | {"client_key": "/etc/hosts"}),
            "imap.client_key: needs client_cert (the certificate it signs)",
        ),
        (with_(imap=IMAP | {"client_cert": "/no/cert.pem"}), "imap.client_cert: no file"),
        (
            with_(imap=IMAP | {"ca_file": "/etc/hosts", "verify": False}),
            "imap.ca_file: has no use with verify = false",
        ),
        (with_(imap=IMAP | {"verify": "no"}), "imap.verify: must be bool"),
    ],
)
def test_tls_keys_are_checked(data, message):
    with pytest.raises(ConfigError) as error:
        parse(data)
    assert message in str(error.value)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.0.1", "localhost", "LOCALHOST.", "::1"])
def test_plain_text_is_fine_on_loopback(host):
    config = parse(with_(imap=IMAP | {"host": host, "security": "none"}))
    assert cautions(config) == []


def test_what_is_allowed_but_unsafe_is_a_caution(tmp_path):
    cert = tmp_path / "client.pem"
    cert.write_text("a certificate and its key\n")
    config = parse(
        with_(
            imap=IMAP | {"host": "mail.example.com", "security": "none", "allow_plaintext": True},
            smtp={
                "host": "smtp.example.com",
                "from_address": "s@x.example",
                "verify": False,
                "client_cert": str(cert),
            },
        )
    )
    assert config.smtp.trust == Trust("smtp", None, False, cert)
    assert cautions(config) == [
        "imap.allow_plaintext: mail.example.com is reached in plain text; anyone on the path"
        " can read the password and the mail",
        "smtp.verify = false: the certificate of smtp.example.com is not checked; anyone on the"
        " path can pose as the server and take the password",
    ]


@pytest.mark.parametrize(
    ("kb", "message"),
    [
        ({"min_score": 0}, "kb.min_score: must be above 0 and at most 1, got 0.0"),
        ({"min_score": "high"}, "kb.min_score: must be float"),
        ({"dir": 3}, "kb.dir: must be str"),
        ({"threshold": 0.3}, "kb.threshold"),
    ],
)
def test_kb_settings_are_checked_naming_the_key(kb, message):
    with pytest.raises(ConfigError, match=message):
        parse(with_(kb=kb))


def test_kb_settings_are_read():
    found = parse(with_(kb={"dir": "articles", "min_score": 0.3, "suggestions": 2})).kb
    assert (found.dir, found.min_score, found.suggestions) == (Path("articles"), 0.3, 2)
