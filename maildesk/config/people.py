"""`[[agents]]`, `[[teams]]` and `[agent_mail]`: who works tickets, in which team.

Checked as a whole once loaded: an agent's team must exist, an address may
belong to one agent only, a lead must be an agent, so that routing and the
proof of sender never meet an ambiguous address.
"""

from typing import Any

from maildesk.config.settings import (
    ASSIGN_MODES,
    ROLES,
    AgentConfig,
    AgentMailConfig,
    TeamConfig,
)
from maildesk.config.toml_table import Table
from maildesk.errors import ConfigError


def agents(items: list[Any]) -> tuple[AgentConfig, ...]:
    found = tuple(_agent(Table(item, f"agents[{n}]")) for n, item in enumerate(items))
    owners: dict[str, int] = {}
    for index, agent in enumerate(found):
        for address in agent.all_addresses:
            if address.lower() in owners:
                raise ConfigError(
                    f"agents[{index}]: address {address!r} is already agents"
                    f"[{owners[address.lower()]}]'s"
                )
            owners[address.lower()] = index
    return found


def _agent(t: Table) -> AgentConfig:
    email = t.get("email", str)
    _check_address(t, "email", email)
    addresses = t.get("addresses", list, [])
    for address in addresses:
        _check_address(t, "addresses", address)
    agent = AgentConfig(
        email=email,
        name=t.get("name", str),
        team=t.get("team", str, None),
        role=t.choice("role", ROLES, "agent"),
        addresses=tuple(addresses),
    )
    t.reject_unknown()
    return agent


def teams(items: list[Any], known: tuple[AgentConfig, ...]) -> tuple[TeamConfig, ...]:
    found: list[TeamConfig] = []
    for index, item in enumerate(items):
        t = Table(item, f"teams[{index}]")
        address = t.get("address", str, None)
        if address is not None:
            _check_address(t, "address", address)
        leads = tuple(t.get("leads", list, []))
        emails = {a.email.lower() for a in known}
        for lead in leads:
            if not isinstance(lead, str) or lead.lower() not in emails:
                raise ConfigError(f"{t.key('leads')}: {lead!r} is not the email of an agent")
        assign = t.choice("assign", ASSIGN_MODES, "round_robin")
        calendar = t.get("calendar", str, None)
        team = TeamConfig(t.get("name", str), address, leads, assign, calendar)
        if team.name in (f.name for f in found):
            raise ConfigError(f"{t.key('name')}: team {team.name!r} is defined twice")
        t.reject_unknown()
        found.append(team)
    names = {team.name for team in found}
    for index, agent in enumerate(known):
        if agent.team is not None and agent.team not in names:
            raise ConfigError(f"agents[{index}].team: no team called {agent.team!r} in [[teams]]")
    return tuple(found)


def default_team(name: str | None, known: tuple[TeamConfig, ...]) -> str | None:
    """`[desk] default_team`, else the first team: where a ticket no rule routes goes."""
    if name is None:
        return known[0].name if known else None
    if name not in (team.name for team in known):
        raise ConfigError(f"desk.default_team: no team called {name!r} in [[teams]]")
    return name


def agent_mail(t: Table | None) -> AgentMailConfig:
    t = t or Table({}, "agent_mail")
    required = t.get("require_authentication_results", bool, False)
    authserv_id = t.get("authserv_id", str, "")
    if required and not authserv_id:
        raise ConfigError(
            f"{t.key('authserv_id')}: required when require_authentication_results is true"
            " (the name your receiving server puts in Authentication-Results)"
        )
    max_age = t.positive("proof_max_age_days", 30.0)
    default = AgentMailConfig.max_notices_per_sender_per_hour
    cap = t.count("max_notices_per_sender_per_hour", default)
    t.reject_unknown()
    return AgentMailConfig(required, authserv_id, max_age, cap)


def _check_address(t: Table, key: str, address: Any) -> None:
    if not isinstance(address, str) or "@" not in address:
        raise ConfigError(f"{t.key(key)}: {address!r} is not an address")
