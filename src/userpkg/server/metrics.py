"""Prometheus metrics, in a registry of the app's own (several apps may share a process).

Per-request figures are counters bumped at the edge; the state of tasks and packages is read
from the database only when /metrics is scraped (`StateCollector`), so requests pay nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from userpkg.core.health import QueueState, package_sizes, queue_state
from userpkg.store.database import Database

log = logging.getLogger(__name__)

__all__ = ["CONTENT_TYPE_LATEST", "Metrics"]


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "userpkg_http_requests",
            "HTTP requests answered, by API, endpoint and status",
            ["api", "endpoint", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "userpkg_http_request_seconds",
            "Time to answer a request, by API and endpoint",
            ["api", "endpoint"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
        )
        self.sign_failures = Counter(
            "userpkg_sign_errors",
            "Brand requests refused with SIGN_ERROR, by outcome",
            ["outcome"],
            registry=self.registry,
        )
        self.received = Counter(
            "userpkg_received_bytes",
            "Request body bytes received, by API",
            ["api"],
            registry=self.registry,
        )
        self._series: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    def observe(self, api: str, endpoint: str, status: int, seconds: float) -> None:
        """One answered request; the labelled series are looked up once per label set."""
        key = (api, endpoint, status)
        series = self._series.get(key)
        if series is None:
            series = (
                self.requests.labels(api, endpoint, str(status)),
                self.latency.labels(api, endpoint),
            )
            self._series[key] = series
        series[0].inc()
        series[1].observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)


class StateCollector(Collector):
    """Tasks by state, queue age and package sizes, read at scrape time."""

    def __init__(self, db: Database, now: Callable[[], int]) -> None:
        self._db = db
        self._now = now

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            queue: QueueState = queue_state(self._db, self._now())
            sizes = package_sizes(self._db)
        except Exception:
            log.warning("metrics: the database did not answer; task and package gauges left out")
            return
        tasks = GaugeMetricFamily("userpkg_tasks", "Expand tasks by state", labels=["state"])
        for state, count in sorted(queue.tasks_by_state.items()):
            tasks.add_metric([state], count)
        yield tasks
        yield GaugeMetricFamily(
            "userpkg_tasks_queued", "Expand tasks waiting to be matched", value=queue.queued
        )
        yield GaugeMetricFamily(
            "userpkg_task_queue_oldest_seconds",
            "Age of the oldest task waiting to be matched (0 when none waits)",
            value=queue.oldest_queued_seconds or 0,
        )
        members = GaugeMetricFamily(
            "userpkg_package_members",
            "Members of each user package",
            labels=["brand_id", "user_package_id"],
        )
        for brand_id, package_id, count in sizes:
            members.add_metric([brand_id, package_id], count)
        yield members
