"""The engine's metrics: one registry of its own, filled by the hooks and by reading the
engine's parts when Prometheus scrapes.

``EngineMetrics`` is created by the engine and handed to the parts that report (it is a
:class:`~ivr_engine.agi.metrics.AgiMetrics`, an :class:`~acd.metrics.AcdMetrics`, ...:
each part declares the hooks it calls). What is a state rather than an event (calls in
progress, the AMI link, the journal's backlog, the ACD's figures) is read at scrape time
from the parts given to :meth:`EngineMetrics.watch`; nothing read then blocks: the ACD's
figures come from a snapshot a background task keeps fresh (:mod:`ivr_engine.metrics.acd`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Final, Literal, get_args
from zoneinfo import ZoneInfo

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.process_collector import ProcessCollector

from acd.metrics import AcdErrorKind
from acd.service_level import ServiceLevelDefinition
from ivr_engine.agi.errors import AgiProtocolError, AgiTimeout
from ivr_engine.agi.metrics import AgiErrorKind
from ivr_engine.ami.link import LinkState
from ivr_engine.ami.metrics import AmiErrorKind
from ivr_engine.data.metrics import BackendErrorKind
from ivr_engine.journal.metrics import JournalErrorKind
from ivr_engine.metrics.acd import AcdSnapshot
from ivr_engine.metrics.backend import CountedBackend
from ivr_engine.metrics.verbs import agi_verb
from ivr_engine.settings import CalendarSettings, ReportSettings

if TYPE_CHECKING:
    from acd.service.acd import Acd
    from ground.loop_monitor import LoopMonitor
    from ivr_engine.agi.metrics import CommandTrace
    from ivr_engine.agi.stats import AgiStats
    from ivr_engine.ami.link import AmiLink
    from ivr_engine.data.backend import SubscriberBackend
    from ivr_engine.data.breaker import CircuitBreaker
    from ivr_engine.journal.writer import JournalWriter

# Every kind of error any part reports, in the order /metrics lists them.
ErrorKind = Literal[AgiErrorKind, JournalErrorKind, AcdErrorKind, AmiErrorKind, BackendErrorKind]
ERROR_KINDS: Final[tuple[ErrorKind, ...]] = (
    *get_args(AgiErrorKind),
    *get_args(JournalErrorKind),
    *get_args(AcdErrorKind),
    *get_args(AmiErrorKind),
    *get_args(BackendErrorKind),
)

# From a GET VARIABLE on the local network (a millisecond) to a prompt or a Dial (minutes).
COMMAND_BUCKETS: Final = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0,
)  # fmt: skip
PASS_BUCKETS: Final = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
)  # fmt: skip
DECISION_BUCKETS: Final = (
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
)  # fmt: skip
SESSION_OUTCOMES: Final = (
    ("completed", "sessions_completed"),
    ("caller_hangup", "caller_hangups"),
    ("handler_error", "handler_errors"),
    ("no_route", "no_route"),
    ("turned_away", "turned_away"),
    ("cancelled", "sessions_cancelled"),
)
BREAKER_STATES: Final = ("closed", "open", "half-open")
# The engine's default settings, for metrics made without the engine's own (tests).
DEFAULT_SERVICE_LEVEL: Final = ReportSettings().service_level
DEFAULT_TIMEZONE: Final = ZoneInfo(CalendarSettings().timezone)


class EngineMetrics:
    """The engine's registry and its metrics (a fresh registry each: tests make their own).

    ``calls_route``: the FastAGI route whose live sessions are the calls in the IVR.
    ``acd_refresh``: seconds between two reads of the ACD's figures.
    ``service_level`` and ``timezone``: the engine's ``reports.service_level`` and
    ``calendar.timezone``, which today's figures of the ACD follow, as on the wallboard.
    """

    def __init__(
        self,
        registry: CollectorRegistry | None = None,
        *,
        calls_route: str = "hotline",
        acd_refresh: float = 5.0,
        service_level: ServiceLevelDefinition = DEFAULT_SERVICE_LEVEL,
        timezone: ZoneInfo = DEFAULT_TIMEZONE,
    ) -> None:
        # No ``*_created`` series: the text format shows each as one more gauge per series,
        # and neither rates nor alerts need them. (A switch of prometheus_client's, for the
        # process: the engine is the only user of it there.)
        disable_created_metrics()  # type: ignore[no-untyped-call]
        self.registry = registry if registry is not None else CollectorRegistry()
        self.calls_route = calls_route
        self.acd_refresh = acd_refresh
        self.service_level = service_level
        self.timezone = timezone
        self.command_seconds = Histogram(
            "ivr_agi_command_seconds",
            "AGI command round trip, from sending the command to its reply, by verb.",
            ["verb"],
            buckets=COMMAND_BUCKETS,
            registry=self.registry,
        )
        self._command_series: dict[str, Histogram] = {}  # by verb: labels() takes a lock
        self.pass_seconds = Histogram(
            "ivr_acd_pass_seconds",
            "ACD reservation passes that had waiting calls and free agents: the one "
            "transaction that reads them, matches them and reserves.",
            buckets=PASS_BUCKETS,
            registry=self.registry,
        )
        self.decision_seconds = Histogram(
            "ivr_acd_decision_seconds",
            "Choosing the agent for one waiting call, within a reservation pass.",
            buckets=DECISION_BUCKETS,
            registry=self.registry,
        )
        self.errors = Counter("ivr_errors", "Errors, by kind.", ["kind"], registry=self.registry)
        for kind in ERROR_KINDS:  # every kind shows, at 0, from the start
            self.errors.labels(kind)
        self.nuisance_blocks = Counter(
            "ivr_nuisance_blocks",
            "Numbers put on the blacklist for calling too often (settings: nuisance).",
            registry=self.registry,
        )
        self.agi: AgiStats | None = None
        self.ami: AmiLink | None = None
        self.journal: JournalWriter | None = None
        self.loop: LoopMonitor | None = None
        self.acd: AcdSnapshot | None = None
        self.breaker: CircuitBreaker | None = None
        self.registry.register(_EngineState(self))
        # process_resident_memory_bytes, process_open_fds, process_cpu_seconds_total, ...
        ProcessCollector(registry=self.registry)

    # -- hooks ----------------------------------------------------------------------------

    def agi_command(self, trace: CommandTrace) -> None:
        failure = trace.error_type
        if failure is not None and issubclass(failure, asyncio.CancelledError):
            return  # no round trip: the call was being torn down
        verb = agi_verb(trace.command)
        series = self._command_series.get(verb)
        if series is None:
            series = self._command_series[verb] = self.command_seconds.labels(verb)
        series.observe(trace.duration)
        if failure is None:
            return
        if issubclass(failure, AgiTimeout):
            self.error("agi_timeout")
        elif issubclass(failure, AgiProtocolError):
            self.error("agi_protocol")

    def error(self, kind: ErrorKind) -> None:
        self.errors.labels(kind).inc()

    def nuisance_block(self) -> None:
        self.nuisance_blocks.inc()

    def acd_pass(self, seconds: float) -> None:
        self.pass_seconds.observe(seconds)

    def acd_decision(self, seconds: float) -> None:
        self.decision_seconds.observe(seconds)

    # -- what is read at scrape time --------------------------------------------------------

    def watch(
        self,
        *,
        agi: AgiStats | None = None,
        ami: AmiLink | None = None,
        journal: JournalWriter | None = None,
        loop: LoopMonitor | None = None,
        acd: Acd | None = None,
    ) -> None:
        """Report these parts' states; the ones not given are left as they were."""
        if agi is not None:
            self.agi = agi
        if ami is not None:
            self.ami = ami
        if journal is not None:
            self.journal = journal
        if loop is not None:
            self.loop = loop
        if acd is not None and (self.acd is None or self.acd.acd is not acd):
            self.acd = AcdSnapshot(
                acd,
                service_level=self.service_level,
                timezone=self.timezone,
                interval=self.acd_refresh,
            )

    def counted(self, backend: SubscriberBackend) -> CountedBackend:
        """``backend``, counting its failures; its circuit breaker's state is reported."""
        counted = CountedBackend(backend, self)
        self.breaker = counted.breaker
        return counted

    def start(self) -> None:
        """Start reading the ACD's figures (if an ACD is watched)."""
        if self.acd is not None:
            self.acd.start()

    async def stop(self) -> None:
        if self.acd is not None:
            await self.acd.stop()

    def exposition(self) -> bytes:
        """The registry in Prometheus' text format."""
        return generate_latest(self.registry)


class _EngineState:
    """A collector that reads the watched parts of the engine; never blocks, never waits."""

    def __init__(self, metrics: EngineMetrics) -> None:
        self._metrics = metrics

    def collect(self) -> Iterator[Metric]:
        m = self._metrics
        if m.agi is not None:
            yield from _agi(m.agi, m.calls_route)
        if m.ami is not None:
            yield from _ami(m.ami)
        if m.journal is not None:
            yield GaugeMetricFamily(
                "ivr_journal_queue_depth",
                "Call records accepted and not yet written to the journal.",
                value=m.journal.pending,
            )
        if m.loop is not None:
            yield GaugeMetricFamily(
                "ivr_event_loop_lag_seconds",
                "How late the engine's event loop last woke up from a short sleep.",
                value=m.loop.last_lag,
            )
            yield GaugeMetricFamily(
                "ivr_event_loop_lag_max_seconds",
                "The worst event-loop lag since the engine started.",
                value=m.loop.max_lag,
            )
            yield GaugeMetricFamily(
                "ivr_event_loop_tasks",
                "asyncio tasks alive in the engine (about two per call; growth is a leak).",
                value=m.loop.tasks,
            )
        if m.acd is not None:
            yield from _acd(m.acd)
        if m.breaker is not None:
            state = GaugeMetricFamily(
                "ivr_backend_circuit_state",
                "The subscriber system's circuit breaker: 1 for the state it is in.",
                labels=["state"],
            )
            current = m.breaker.state
            for name in BREAKER_STATES:
                state.add_metric([name], float(name == current))
            yield state


def _agi(stats: AgiStats, route: str) -> Iterator[Metric]:
    yield GaugeMetricFamily(
        "ivr_calls_active",
        "Hotline calls the engine is serving now: in the menus or waiting for an agent.",
        value=stats.live_by_route.get(route, 0),
    )
    sessions = CounterMetricFamily(
        "ivr_agi_sessions",
        "FastAGI sessions that ended, by outcome (handler_error: sent to the fallback).",
        labels=["outcome"],
    )
    for outcome, attribute in SESSION_OUTCOMES:
        sessions.add_metric([outcome], getattr(stats, attribute))
    yield sessions


def _ami(link: AmiLink) -> Iterator[Metric]:
    state = GaugeMetricFamily(
        "ivr_ami_link_state",
        "The AMI link to Asterisk: 1 for the state it is in.",
        labels=["state"],
    )
    for name in LinkState:
        state.add_metric([str(name)], float(link.state is name))
    yield state
    yield CounterMetricFamily(
        "ivr_ami_reconnects",
        "Times the AMI link came back after it was lost.",
        value=link.reconnects,
    )


def _acd(snapshot: AcdSnapshot) -> Iterator[Metric]:
    figures = snapshot.figures
    if figures is None:
        return  # not read yet: no figures rather than false zeros
    agents = GaugeMetricFamily("ivr_acd_agents", "Agents, by state.", labels=["state"])
    for agent_state, count in figures.agents.items():
        agents.add_metric([agent_state], count)
    yield agents
    waiting = GaugeMetricFamily(
        "ivr_acd_calls_waiting",
        "Callers waiting for an agent (ringing one included), by queue.",
        labels=["queue"],
    )
    longest = GaugeMetricFamily(
        "ivr_acd_longest_wait_seconds",
        "How long the caller waiting longest has waited, by queue (0: nobody waits).",
        labels=["queue"],
    )
    callbacks = GaugeMetricFamily(
        "ivr_acd_callbacks_owed", "Callbacks owed (not made yet), by queue.", labels=["queue"]
    )
    answered = GaugeMetricFamily(
        "ivr_acd_calls_answered_today",
        "Calls answered today (since the hotline's midnight), by queue.",
        labels=["queue"],
    )
    abandoned = GaugeMetricFamily(
        "ivr_acd_calls_abandoned_today",
        "Callers who hung up today waiting for an agent (short abandons included), by queue.",
        labels=["queue"],
    )
    service_level = GaugeMetricFamily(
        "ivr_acd_service_level_today_ratio",
        "Today's service level (reports.service_level), 0 to 1, by queue; a queue is left"
        " out while none of today's calls counts.",
        labels=["queue"],
    )
    now = snapshot.acd.clock()
    for queue in sorted(figures.queues, key=lambda q: q.name):
        waiting.add_metric([queue.name], queue.waiting)
        longest.add_metric([queue.name], queue.longest_wait_s(now) or 0.0)
        callbacks.add_metric([queue.name], queue.callbacks)
        day = figures.today.of(queue.name)
        answered.add_metric([queue.name], day.answered)
        abandoned.add_metric([queue.name], day.abandoned)
        ratio = day.service_level_ratio
        if ratio is not None:
            service_level.add_metric([queue.name], ratio)
    yield waiting
    yield longest
    yield callbacks
    yield answered
    yield abandoned
    yield service_level
    yield GaugeMetricFamily(
        "ivr_acd_snapshot_age_seconds",
        "Seconds since the ACD's figures above were read from its database.",
        value=max(0.0, time.monotonic() - figures.taken_at),
    )
