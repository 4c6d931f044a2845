"""Tells metrics, the log and the app's webhook about refusals, blocks and spend caps."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from otpgate.service.ports import FraudBlock, Transaction
from otpgate.service.webhooks import WebhookEmitter

FRAUD_BLOCKED = "fraud.blocked"
SPEND_CAP_REACHED = "spend_cap.reached"


class AbuseMetrics(Protocol):
    def refused(self, app_id: str, limit: str) -> None: ...

    def fraud_blocked(self, app_id: str) -> None: ...

    def spend_cap_reached(self, app_id: str, cap: str) -> None: ...


class AbuseLog(Protocol):
    def __call__(self, event: str, **fields: Any) -> None: ...


def _timestamp(value: datetime | None) -> str | None:
    return None if value is None else value.strftime("%Y-%m-%dT%H:%M:%SZ")


def block_fields(block: FraudBlock) -> dict[str, Any]:
    """A block as the admin API and the webhook show it."""
    return {
        "id": block.id,
        "app_id": block.app_id,
        "prefix": block.prefix,
        "country": block.country,
        "recent_sends": block.recent_sends,
        "baseline_per_hour": block.baseline_per_hour,
        "started": block.started,
        "approved": block.approved,
        "created_at": _timestamp(block.created_at),
        "expires_at": _timestamp(block.expires_at),
        "lifted_at": _timestamp(block.lifted_at),
    }


class AbuseAlerts:
    def __init__(self, metrics: AbuseMetrics, emitter: WebhookEmitter, log: AbuseLog) -> None:
        self._metrics = metrics
        self._emitter = emitter
        self._log = log

    def refused(self, app_id: str, limit: str) -> None:
        self._metrics.refused(app_id, limit)

    def fraud_blocked(self, tx: Transaction, block: FraudBlock) -> None:
        self._metrics.fraud_blocked(block.app_id)
        self._log(
            "fraud_block",
            app_id=block.app_id,
            prefix=block.prefix,
            recent_sends=block.recent_sends,
            baseline_per_hour=block.baseline_per_hour,
            started=block.started,
            approved=block.approved,
        )
        self._emitter.app_event(tx, block.app_id, FRAUD_BLOCKED, {"block": block_fields(block)})

    def spend_cap_reached(
        self, tx: Transaction, app_id: str, cap: str, limit: int, retry_after: int
    ) -> None:
        self._metrics.spend_cap_reached(app_id, cap)
        self._log("spend_cap_reached", app_id=app_id, cap=cap, limit=limit)
        self._emitter.app_event(
            tx,
            app_id,
            SPEND_CAP_REACHED,
            {"app_id": app_id, "cap": cap, "limit": limit, "retry_after": retry_after},
        )
