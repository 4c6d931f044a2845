"""The app settings of channels and workflows, with their defaults (docs/channels.md)."""

from __future__ import annotations

from typing import Any

CHANNEL_DEFAULTS: dict[str, Any] = {
    "channels": ["sms"],
    "workflow": None,
    "allow_premium_rate_calls": False,
}
