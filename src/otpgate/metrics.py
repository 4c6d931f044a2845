"""Prometheus metrics. No label ever holds a code or a phone number."""

from __future__ import annotations

from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from otpgate.domain.verification import DeliveryStatus, Verification


class Breaker(Protocol):
    @property
    def is_open(self) -> bool: ...


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
        self.rate_limited = Counter(
            "otpgate_rate_limited",
            "Requests refused by a rate limit, spend cap or the fraud guard, by limit.",
            ["app", "limit"],
            registry=self.registry,
        )
        self.fraud_blocks = Counter(
            "otpgate_fraud_blocks",
            "Prefixes the SMS-pumping guard blocked, by app.",
            ["app"],
            registry=self.registry,
        )
        self.spend_caps = Counter(
            "otpgate_spend_cap_reached",
            "Spend caps reached (once per cap and day), by app and cap.",
            ["app", "cap"],
            registry=self.registry,
        )
        self.counter_fallbacks = Counter(
            "otpgate_counter_store_fallbacks",
            "Times Redis failed and rate-limit counters moved to the database.",
            registry=self.registry,
        )
        self.circuit_open = Gauge(
            "otpgate_provider_circuit_open",
            "1 while a provider's circuit breaker is open (its messages wait or fail over).",
            ["provider"],
            registry=self.registry,
        )
        self.lookups = Counter(
            "otpgate_lookups",
            "Network lookups by provider and outcome (answered, cached, capped, timeout, failed).",
            ["provider", "outcome"],
            registry=self.registry,
        )
        self.lookup_seconds = Histogram(
            "otpgate_lookup_duration_seconds",
            "Time a lookup provider took to answer (or to fail), by provider.",
            ["provider"],
            registry=self.registry,
            buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0),
        )
        self.messages_unopenable = Counter(
            "otpgate_messages_unopenable",
            "Queued messages whose sealed text opens with no live secret key (failed unsent).",
            registry=self.registry,
        )
        self.receipt_retries = Counter(
            "otpgate_receipt_retries",
            "Times a batch of receipts a provider's session acknowledged could not be recorded "
            "(the database out) and was kept to be tried again.",
            registry=self.registry,
        )
        self.request_seconds = Histogram(
            "otpgate_http_request_duration_seconds",
            "HTTP request latency by route.",
            ["method", "route", "status"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
        )

    def provider_circuit(self, provider: str, breaker: Breaker) -> None:
        """Read the breaker's state at each scrape, not copied at each change."""
        self.circuit_open.labels(provider).set_function(lambda: float(breaker.is_open))

    def verification_status(self, verification: Verification) -> None:
        self.verifications.labels(
            verification.app_id, verification.status.value, verification.country or "unknown"
        ).inc()

    def check_outcome(self, outcome: str) -> None:
        self.checks.labels(outcome).inc()

    def message_status(self, status: DeliveryStatus) -> None:
        self.messages.labels(status.value).inc()

    def refused(self, app_id: str, limit: str) -> None:
        self.rate_limited.labels(app_id, limit).inc()

    def fraud_blocked(self, app_id: str) -> None:
        self.fraud_blocks.labels(app_id).inc()

    def lookup_finished(self, provider: str, outcome: str, seconds: float) -> None:
        self.lookups.labels(provider, outcome).inc()
        if outcome in ("answered", "timeout", "failed"):
            self.lookup_seconds.labels(provider).observe(seconds)

    def spend_cap_reached(self, app_id: str, cap: str) -> None:
        self.spend_caps.labels(app_id, cap).inc()
