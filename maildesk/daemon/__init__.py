"""The daemon of `maildesk run`: loop.py the scheduler and the signals; a module per
job (poll_job, outbox_job, sla_job, digest_job, survey_job, held_job; job.py what
they share), watchers.py the IDLE threads, backoff.py the delays after failures."""
