"""Prometheus metrics. No label ever holds a code or a phone number."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

from otpgate.domain.verification import DeliveryStatus, Verification


class Metrics:
    """One registry per runtime, so tests and several apps in one process never collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.verifications = Counter(
            "otpgate_verifications",
            "Verifications reaching a status, by app and country.",
            ["app", "status", "country"],
            registry=self.registry,
        )
        self.checks = Counter(
            "otpgate_checks", "Code checks by outcome.", ["outcome"], registry=self.registry
        )
        self.messages = Counter(
            "otpgate_messages",
            "Messages reaching a delivery status.",
            ["status"],
            registry=self.registry,
        )
        self.request_seconds = Histogram(
            "otpgate_http_request_duration_seconds",
            "HTTP request latency by route.",
            ["method", "route", "status"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
        )

    def verification_status(self, verification: Verification) -> None:
        self.verifications.labels(
            verification.app_id, verification.status.value, verification.country or "unknown"
        ).inc()

    def check_outcome(self, outcome: str) -> None:
        self.checks.labels(outcome).inc()

    def message_status(self, status: DeliveryStatus) -> None:
        self.messages.labels(status.value).inc()
