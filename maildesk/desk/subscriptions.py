"""Who reacts to what happens to a ticket, in order: the one table.

tickets.py emits each event once (events.py); the desk runs the reactions
listed for its type, top to bottom, in the same transaction. What follows a
change goes here, never at the places that make it. The SLA and survey
packages know nothing of each other: only this table names both.
"""

from maildesk.desk import status_mail
from maildesk.desk.context import Reactions
from maildesk.desk.events import (
    AgentWrote,
    Assigned,
    Merged,
    Opened,
    StatusChanged,
    TargetsChanged,
)
from maildesk.desk.sla import react
from maildesk.desk.survey import lifecycle

REACTIONS: Reactions = {
    Opened: (react.opened,),  # first response, resolution (and review) clocks start
    StatusChanged: (
        react.status_changed,  # clocks pause, resume, are met, stop, run again
        lifecycle.schedule,  # a resolution's survey
        status_mail.status_changed,  # the customer hears what is news to them
    ),
    TargetsChanged: (react.targets_changed,),  # due times from the new priority or team
    Assigned: (react.assigned,),  # the assignment clock is met
    AgentWrote: (react.agent_wrote,),  # review, first response, lead's answer met
    Merged: (
        react.merged,  # the merged ticket's clocks stop
        status_mail.merged,  # the customer learns the number it goes on under
    ),
}
