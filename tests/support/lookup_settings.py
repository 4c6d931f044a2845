"""The app settings of network lookups, with their defaults (docs/lookups.md)."""

from __future__ import annotations

from typing import Any

LOOKUP_DEFAULTS: dict[str, Any] = {
    "network_lookup": "when_ambiguous",
    "lookup_cache_days": 30,
    "lookups_per_day": 10_000,
    "lookup_failure": "allow",
    "lookup_feeds_fraud_guard": True,
}

LOOKUP_RANGES = [
    ("lookup_cache_days", 1, 365),
    ("lookups_per_day", 1, 100_000_000),
]
