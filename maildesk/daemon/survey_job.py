"""The survey job: send the surveys that are due; close the tickets whose window ended."""

from maildesk.daemon.job import Host, Job, sweep
from maildesk.desk.survey import sweep as survey_sweep


def job(host: Host) -> Job:
    interval = host.app.config.survey.sweep_interval
    return sweep(host, "survey", "survey sweep", survey_sweep.sweep, interval)
