"""Prometheus metrics, in a registry of the app's own (several apps may share a process)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

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

    def observe(self, api: str, endpoint: str, status: int, seconds: float) -> None:
        self.requests.labels(api, endpoint, str(status)).inc()
        self.latency.labels(api, endpoint).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
