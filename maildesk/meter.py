"""What the process counts, and the Prometheus text of `/metrics` (prometheus-client's home).

Several workers may share one database, each with its own memory, so the
figures come from two places. What happened in this process (mails taken in
by class, mails quarantined, parse children killed, database errors, jobs'
durations, SLA levels fired, IDLE connections held) are Counters, Histograms
and Gauges here, one set per worker: Prometheus adds the workers up. What
stands in the database (the outbox's mails and its oldest pending one, the
tickets, the SLA clocks breached, each mailbox's last successful poll) is the
same for every worker: a custom collector reads it at each scrape through the
function given to `read_stock`, so no worker's restart loses or doubles it.
Each Meter has a registry of its own, never the library's global one, so
several Apps in one process (tests, the demo) keep their figures apart.
"""

from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST

# Job durations: a poll or sweep takes milliseconds when idle, minutes over a backlog.
DURATION_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0)


@dataclass(frozen=True)
class Reading:
    """One gauge read from the database at scrape time: its samples by label values."""

    name: str
    help: str
    labels: tuple[str, ...] = ()
    samples: tuple[tuple[tuple[str, ...], float], ...] = ()


StockReader = Callable[[], Iterable[Reading]]


class _Stock:
    """The custom collector: what `read` returns at each scrape, as gauges."""

    def __init__(self) -> None:
        self.read: StockReader | None = None

    def describe(self) -> list[Metric]:
        return []  # the names come from the readings: none to check at registration

    def collect(self) -> Iterator[Metric]:
        for reading in self.read() if self.read is not None else ():
            family = GaugeMetricFamily(reading.name, reading.help, labels=reading.labels)
            for values, value in reading.samples:
                family.add_metric(list(values), value)
            yield family


class Meter:
    """The process's counters (methods name what happened) and its `/metrics` text."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._stock = _Stock()
        self.registry.register(self._stock)
        r = self.registry
        self._mails = Counter(
            "maildesk_mails_in",
            "Mails stored, by mailbox and class",
            ["mailbox", "class"],
            registry=r,
        )
        self._quarantined = Counter(
            "maildesk_mails_quarantined", "Mails quarantined, by mailbox", ["mailbox"], registry=r
        )
        self._kills = Counter(
            "maildesk_parse_kills", "Parse children killed or dead on a mail", registry=r
        )
        self._db_errors = Counter(
            "maildesk_database_errors",
            "Errors the database raised, transient (locked, lost) or other",
            ["kind"],
            registry=r,
        )
        self._levels = Counter(
            "maildesk_sla_levels_fired", "SLA ladder levels fired, by level", ["level"], registry=r
        )
        self._breaches = Counter("maildesk_sla_breaches", "SLA clocks breached", registry=r)
        self._jobs = Histogram(
            "maildesk_job_duration_seconds",
            "How long each run of a daemon job took, by job",
            ["job"],
            buckets=DURATION_BUCKETS,
            registry=r,
        )
        self._idle = Gauge(
            "maildesk_idle_connected",
            "1 while the mailbox's IDLE connection is held",
            ["mailbox"],
            registry=r,
        )

    def read_stock(self, read: StockReader) -> None:
        """Read the database's figures through `read` at each scrape (replaces any before)."""
        self._stock.read = read

    def mail_in(self, mailbox: str, mail_class: str) -> None:
        self._mails.labels(mailbox, mail_class).inc()

    def mail_quarantined(self, mailbox: str) -> None:
        self._quarantined.labels(mailbox).inc()

    def parse_killed(self) -> None:
        self._kills.inc()

    def database_error(self, transient: bool) -> None:
        self._db_errors.labels("transient" if transient else "other").inc()

    def sla_swept(self, breaches: int, levels: dict[str, int]) -> None:
        self._breaches.inc(breaches)
        for level, times in levels.items():
            self._levels.labels(level).inc(times)

    def idle_connected(self, mailbox: str, connected: bool) -> None:
        self._idle.labels(mailbox).set(1 if connected else 0)

    def timing(self, job: str) -> AbstractContextManager[object]:
        """Observe how long the block takes as a run of `job` (also when it raises)."""
        return self._jobs.labels(job).time()

    def exposition(self) -> tuple[bytes, str]:
        """The Prometheus text of every figure, and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
