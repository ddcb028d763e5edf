"""The daemon's own jobs run in turn, each when asked, instead of on its timer.

The demo and the simulation move the injected clock, then run the job whose moment
came (a poll after a mail is delivered, the SLA sweep after time passed): the same
jobs `maildesk run` schedules (`Daemon.jobs`), in an order one can follow, with no
waiting.
"""

from maildesk.app import App
from maildesk.daemon.loop import Daemon
from maildesk.errors import MaildeskError


class Turns(Daemon):
    """The daemon with its scheduler never started: `run_now` runs jobs now, and the jobs
    they ask for (`run_soon`) right after. Not for `start` or `run`: nothing is timed."""

    def __init__(self, app: App) -> None:
        super().__init__(app)
        self._asked: list[str] = []
        self.by_id = {job.id: job for job in self.jobs()}
        self.polls = [intake.job_id for intake in self.intakes]

    def run_soon(self, job_id: str, delay: float = 0.0) -> None:
        """A job asks for another (a poll for the drain). A delay is a backoff: trouble."""
        if delay:
            raise MaildeskError(f"{job_id} asked to run again in {delay:.0f} s: see the log")
        self._asked.append(job_id)

    def run_now(self, *job_ids: str) -> None:
        """Run these jobs, then every job they asked for, until none is asked. As in the
        daemon, a job this desk has not (the drain without [smtp]) is not run."""
        queue = list(job_ids)
        while queue:
            job = self.by_id.get(queue.pop(0))
            if job is not None:
                job.run()
            queue += [job for job in self._asked if job not in queue]
            self._asked.clear()

    def poll(self) -> None:
        """Every mailbox's poll job (each drains the outbox after it)."""
        self.run_now(*self.polls)

    def sweep(self) -> None:
        """The SLA and survey sweeps at the clock's present moment."""
        self.run_now("sla", "survey")
