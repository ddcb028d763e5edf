"""Which team and which agent a new ticket goes to.

The team: the one a rule names, else the team whose address the customer
wrote to, else the mailbox's team, else `desk.default_team`. Inside the team
the ticket is assigned by the team's `assign`: `round_robin` (the member
after the one who got the team's last ticket), `least_open` (the member with
the fewest open or pending tickets), or `none` (the team takes it by hand).
"""

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from maildesk.config import AgentConfig, Config, MailboxConfig
from maildesk.desk.context import Desk
from maildesk.mail.message import Incoming
from maildesk.store.tables import Status, Ticket

_WAITING = (Status.OPEN, Status.PENDING)


def team_for(
    config: Config, rule_team: str | None, mail: Incoming, mailbox: MailboxConfig | None
) -> str | None:
    if rule_team:
        return rule_team
    written_to = {address.lower() for address in (*mail.to, *mail.cc)}
    for team in config.teams:
        if team.address and team.address.lower() in written_to:
            return team.name
    if mailbox is not None and mailbox.team:
        return mailbox.team
    return config.desk.default_team


def pick_assignee(session: Session, desk: Desk, team: str | None) -> AgentConfig | None:
    """The member of `team` who gets its next ticket; None when the team assigns by hand.
    Round robin asks the database once per unit of work and team (the Batch keeps who
    got the last; tickets.py forgets it when a ticket changes hands or teams)."""
    config = desk.config
    settings, members = config.team(team), config.members(team)
    if settings is None or settings.assign == "none" or not members:
        return None
    emails = [agent.email for agent in members]
    if settings.assign == "least_open":
        counts = dict(
            session.execute(
                select(Ticket.assignee, func.count())
                .where(Ticket.assignee.in_(emails), Ticket.status.in_(_WAITING))
                .group_by(Ticket.assignee)
            ).all()
        )
        return min(members, key=lambda agent: counts.get(agent.email, 0))
    assignees = desk.batch.assignees
    if team in assignees:
        last: str | None = assignees[team]
    else:
        last = session.scalar(
            select(Ticket.assignee)
            .where(Ticket.team == team, Ticket.assignee.in_(emails))
            .order_by(Ticket.id.desc())
            .limit(1)
        )
    after = emails.index(last) + 1 if last in emails else 0
    chosen = members[after % len(members)]
    assignees[team] = chosen.email
    return chosen


def leads(config: Config, team: str | None) -> tuple[AgentConfig, ...]:
    """Who hears of a ticket nobody takes: the team's leads, else every lead of the desk."""
    settings = config.team(team)
    named = settings.leads if settings else ()
    found = tuple(a for a in config.agents if a.email in named)
    return found or tuple(a for a in config.agents if a.role == "lead")
