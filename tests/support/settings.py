"""The app settings that abuse protection added, with their defaults (docs/abuse.md)."""

from __future__ import annotations

from typing import Any

ABUSE_DEFAULTS: dict[str, Any] = {
    "sends_per_number_10min": 5,
    "sends_per_number_day": 10,
    "failures_per_number_day": 20,
    "sends_per_ip_hour": 20,
    "checks_per_ip_hour": 60,
    "sends_per_app_minute": 300,
    "messages_per_day": 10_000,
    "messages_per_country_day": 5_000,
    "fraud_guard": True,
    "fraud_prefix_digits": 3,
    "fraud_min_sends": 20,
    "fraud_velocity_factor": 5,
    "fraud_max_conversion_percent": 20,
    "fraud_block_seconds": 43_200,
    "safe_list": [],
    "test_numbers": {},
}

ABUSE_RANGES = [
    ("sends_per_number_10min", 1, 1000),
    ("sends_per_number_day", 1, 10_000),
    ("failures_per_number_day", 1, 1000),
    ("sends_per_ip_hour", 1, 1_000_000),
    ("checks_per_ip_hour", 1, 1_000_000),
    ("sends_per_app_minute", 1, 1_000_000),
    ("messages_per_day", 1, 100_000_000),
    ("messages_per_country_day", 1, 100_000_000),
    ("fraud_prefix_digits", 1, 8),
    ("fraud_min_sends", 5, 100_000),
    ("fraud_velocity_factor", 2, 1000),
    ("fraud_max_conversion_percent", 0, 100),
    ("fraud_block_seconds", 60, 7 * 86_400),
]
