"""The daemon's SLA job in process: it sweeps at start and the escalation mail goes out."""

import time

from maildesk.daemon.loop import Daemon
from tests.desk.sla.desk import SLA, customer_writes
from tests.support import desk_toml, metric_series


def test_the_daemon_sweeps_at_start_and_sends_the_escalations(make_app, smtp_sink, clock):
    app = make_app(sink=smtp_sink, extra=desk_toml() + SLA.format(keys=""))
    customer_writes(app, subject="Shop is down")
    clock.advance(minutes=11)  # the P0 review is overdue, and its warning stale
    daemon = Daemon(app)
    daemon.start()
    try:
        deadline = time.monotonic() + 30
        while not [m for m in smtp_sink.messages if "SLA" in m["Subject"]]:
            assert time.monotonic() < deadline, "no escalation mail from the daemon"
            time.sleep(0.05)
    finally:
        daemon.shutdown()
    subjects = sorted(m["Subject"] for m in smtp_sink.messages if "SLA" in m["Subject"])
    assert all("SLA L1: overdue (P0, engineer review)" in s for s in subjects)
    assert sorted(m["To"] for m in smtp_sink.messages if "SLA" in m["Subject"]) == [
        "boss@desk.example",
        "lin@desk.example",
    ]
    counted = metric_series(app.meter.exposition()[0])
    assert counted['maildesk_sla_levels_fired_total{level="L1"}'] == 1
    assert counted["maildesk_sla_breaches_total"] == 1, "the review's clock"
    assert counted['maildesk_job_duration_seconds_count{job="sla"}'] >= 1
