"""Prometheus metrics: what the service counts and times, and the text a scrape gets.

Counters and histograms live in prometheus-client's default registry, created on first use (never at import).
With several worker processes, each writes its values to files under ``PROMETHEUS_MULTIPROC_DIR`` (set before
the processes start, emptied at each start: prometheus-client's multi-process mode), and a scrape of any worker
adds them all up. Gauges that are not counts of events (the audit log's size and age) are read from the database
at scrape time, by the process that answers it.
"""

from __future__ import annotations

import os
import time
import weakref
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from sqlalchemy.orm import Session

CONTENT_TYPE = CONTENT_TYPE_LATEST
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# Request latencies: from the health probe (ms) to a live check of a whole clip (tens of seconds).
_REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
_COMPARE_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
_LIVE_CHECK_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0)


class Metrics:
    """Every metric the service writes. Names are part of the operating interface (README, "Operating it")."""

    def __init__(self) -> None:
        self.requests = Counter("realname_http_requests", "HTTP requests by route template and status",
                                ["method", "route", "status"])
        self.latency = Histogram("realname_http_request_duration_seconds", "HTTP request latency by route template",
                                 ["method", "route"], buckets=_REQUEST_BUCKETS)
        self.decisions = Counter("realname_decisions", "live-check decisions by outcome", ["outcome"])
        self.reasons = Counter("realname_decision_reasons", "reason codes of live-check decisions by outcome (a "
                               "decision may give several)", ["outcome", "reason"])
        self.compare = Histogram("realname_compare_seconds", "1:1 face comparisons (document portrait against a "
                                 "live frame)", buckets=_COMPARE_BUCKETS)
        self.live_check = Histogram("realname_live_check_seconds", "whole live checks (liveness over the frames, "
                                    "then the match)", buckets=_LIVE_CHECK_BUCKETS)
        self.failures_to_acquire = Counter("realname_failures_to_acquire", "no usable face where one was needed, "
                                           "by stage", ["stage"])
        self.cap_refusals = Counter("realname_cap_refusals", "registrations refused by a per-person cap", ["cap"])
        # livesum: each worker adds or removes its own connections; a scrape shows the sum over live workers.
        self.pool_in_use = Gauge("realname_db_pool_connections_in_use", "database connections checked out of the "
                                 "pools", multiprocess_mode="livesum")
        self.pool_open = Gauge("realname_db_pool_connections_open", "database connections the pools hold open",
                               multiprocess_mode="livesum")


@cache
def metrics() -> Metrics:
    # No *_created series beside every counter: a timestamp nobody graphs.
    disable_created_metrics()  # type: ignore[no-untyped-call]
    return Metrics()


def count_request(method: str, route: str, status: int, seconds: float) -> None:
    m = metrics()
    m.requests.labels(method, route, str(status)).inc()
    m.latency.labels(method, route).observe(seconds)


def count_decision(outcome: str, reasons: Iterable[str]) -> None:
    m = metrics()
    m.decisions.labels(outcome).inc()
    for code in reasons:
        m.reasons.labels(outcome, code).inc()


def count_failure_to_acquire(stage: str) -> None:
    metrics().failures_to_acquire.labels(stage).inc()


def count_cap_refusal(cap: str) -> None:
    metrics().cap_refusals.labels(cap).inc()


@contextmanager
def timed(histogram: Histogram) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        histogram.observe(time.perf_counter() - start)


_watched: weakref.WeakSet[Engine] = weakref.WeakSet()  # engines whose pool is counted


def watch_pool(engine: Engine) -> None:
    """Count the engine's connections as the pool hands them out and takes them back (once per engine)."""
    from sqlalchemy import event

    if engine in _watched:
        return
    _watched.add(engine)
    m = metrics()
    event.listen(engine, "checkout", lambda *_: m.pool_in_use.inc())
    event.listen(engine, "checkin", lambda *_: m.pool_in_use.dec())
    event.listen(engine, "connect", lambda *_: m.pool_open.inc())
    event.listen(engine, "close", lambda *_: m.pool_open.dec())


def audit_gauges(session: Session, now: datetime) -> Iterator[Metric]:
    """The audit log's gauges, read at scrape time (each an indexed lookup, however long the log): its size, the
    newest event's age, how many events still wait for the tree, and the last signed tree head's size and age (a
    head that stops getting younger means the batcher or its schedule stopped)."""
    from sqlalchemy import func, select

    from realname.registry.tables import AuditEvent, AuditLogState, AuditTreeHead

    last = session.execute(select(func.max(AuditEvent.seq))).scalar_one_or_none() or 0
    size = GaugeMetricFamily("realname_audit_events", "events in the audit log (the newest event's sequence number)")
    size.add_metric([], last)
    yield size
    if last > 0:
        at = session.execute(select(AuditEvent.at).where(AuditEvent.seq == last)).scalar_one()
        age = GaugeMetricFamily("realname_audit_head_age_seconds", "seconds since the newest event was appended")
        age.add_metric([], max(0.0, (now - datetime.fromisoformat(at)).total_seconds()))
        yield age
    state = session.get(AuditLogState, 1)
    waiting = GaugeMetricFamily("realname_audit_unbatched_events", "events appended but not yet in the Merkle tree")
    waiting.add_metric([], max(0, last - (state.next_seq - 1 if state is not None else 0)))
    yield waiting
    head = session.execute(select(AuditTreeHead).order_by(AuditTreeHead.id.desc()).limit(1)).scalar_one_or_none()
    if head is not None:
        head_size = GaugeMetricFamily("realname_audit_tree_head_size", "leaves covered by the last signed tree head")
        head_size.add_metric([], head.size)
        yield head_size
        head_age = GaugeMetricFamily("realname_audit_tree_head_age_seconds", "seconds since the last signed tree "
                                     "head was signed")
        head_age.add_metric([], max(0.0, now.timestamp() - head.timestamp / 1000))
        yield head_age


class _AuditCollector(Collector):
    def __init__(self, services: Any) -> None:
        self.services = services

    def collect(self) -> Iterable[Metric]:
        with self.services.db.read() as s:
            return list(audit_gauges(s, datetime.now(UTC)))


def render(services: Any) -> bytes:
    """The scrape: every process's counters (multi-process mode) or this one's, then the database's gauges."""
    metrics()  # the families are listed, with their HELP and TYPE, before anything was counted
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry = REGISTRY
    audit = CollectorRegistry(auto_describe=False)
    audit.register(_AuditCollector(services))
    return generate_latest(registry) + generate_latest(audit)


def process_exited() -> None:
    """Drop this worker's live gauges from the multi-process sums (at shutdown)."""
    if os.environ.get(MULTIPROC_ENV):
        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]
