"""The app settings that shape a message's text, with their defaults (docs/messages.md)."""

from __future__ import annotations

from typing import Any

MESSAGE_DEFAULTS: dict[str, Any] = {
    "template": None,
    "templates": {},
    "brand": None,
    "default_locale": "en",
    "locale_from_number": True,
    "webotp_domain": None,
    "webotp_embedded_domain": None,
    "android_app_hash": None,
    "max_segments": 2,
}
