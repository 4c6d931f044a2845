"""Limits counted per clock minute: a burst started near a minute's end would cross into the
next window and end with that window's first answers."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def fresh_minute() -> None:
    """Return well inside a clock minute: wait for the next one past its 50th second."""
    second = datetime.now(UTC).second
    if second > 50:
        time.sleep(61 - second)
