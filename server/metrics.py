"""Prometheus metrics: requests by route and status, a latency histogram, and the versions
answers came from and the store holds.

With several worker processes (``PROMETHEUS_MULTIPROC_DIR`` set by ``embed serve``), the
counts of every process are added up, whichever process answers ``/metrics``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from embedstore.query.gathering import BatchStats

from .access import StoreAccess

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
                   2.5, 5.0, 10.0)
BATCH_SIZE_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Message]],
                    Callable[[Message], Awaitable[None]]], Awaitable[None]]


class Metrics:
    """The metrics of one application."""

    def __init__(self, access: StoreAccess) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("embedstore_http_requests", "HTTP requests answered.",
                                ["route", "method", "status"], registry=self.registry)
        self.latency = Histogram("embedstore_http_request_duration_seconds",
                                 "Time from request to the end of the answer.", ["route"],
                                 buckets=LATENCY_BUCKETS, registry=self.registry)
        self.answers = Counter("embedstore_answers", "Query answers by the version they came from.",
                               ["model", "version"], registry=self.registry)
        self.batch_size = Histogram(
            "embedstore_batch_size", "Queries answered together by one matrix product "
            "(concurrent similar and analogy requests of one version).",
            buckets=BATCH_SIZE_BUCKETS, registry=self.registry)
        self.batch_queued = Histogram(
            "embedstore_batch_queued_seconds", "Time from a batch's first query to the start "
            "of its product.", buckets=LATENCY_BUCKETS, registry=self.registry)
        self.batch_waits = Counter(
            "embedstore_batch_window_waits", "Batches that waited for more queries; a query "
            "alone at an idle worker never waits.", registry=self.registry)
        self.store_registry = CollectorRegistry()
        self.store_registry.register(StoreCollector(access))

    def answered(self, model: str, version: int) -> None:
        self.answers.labels(model, str(version)).inc()

    def batched(self, stats: BatchStats) -> None:
        """Note one batch of gathered queries (the observer of :class:`Gatherers`)."""
        self.batch_size.observe(stats.calls)
        self.batch_queued.observe(stats.queued_seconds)
        if stats.waited:
            self.batch_waits.inc()

    def exposition(self) -> bytes:
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            MultiProcessCollector(registry)
        else:
            registry = self.registry
        return generate_latest(registry) + generate_latest(self.store_registry)


class StoreCollector(Collector):
    """The versions being served: each model's latest version and its aliases' targets."""

    def __init__(self, access: StoreAccess) -> None:
        self.access = access

    def collect(self) -> Iterator[GaugeMetricFamily]:
        latest = GaugeMetricFamily("embedstore_latest_version",
                                   "Latest version of each model (served when none is asked).",
                                   labels=["model"])
        targets = GaugeMetricFamily("embedstore_alias_version",
                                    "Version each alias points at.", labels=["model", "alias"])
        try:
            with self.access.reading() as store:
                for model in store.models():
                    latest.add_metric([model], store.version_info(model).version)
                    for alias in store.aliases(model):
                        targets.add_metric([model, alias.name], alias.version)
        except Exception:  # an unreadable store shows no versions; /readyz says why
            pass
        yield latest
        yield targets


WORKER_HEADER = b"x-embedstore-worker"
"""Every response names the process that answered it (one of ``--workers``) by its id."""


@dataclass(frozen=True)
class RouteTemplate:
    """What the metrics read of a request's route (``scope["route"]``): its template."""

    path: str


class MetricsMiddleware:
    """Counts every request by its route's template (not its path) and status, and times it;
    adds :data:`WORKER_HEADER` to every response."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Callable[[], Awaitable[Message]],
                       send: Callable[[Message], Awaitable[None]]) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []),
                                      (WORKER_HEADER, str(os.getpid()).encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self.metrics.requests.labels(template, scope["method"], str(status)).inc()
            self.metrics.latency.labels(template).observe(time.perf_counter() - start)
