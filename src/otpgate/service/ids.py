"""Identifiers that sort by creation time, so a cursor is simply the last id seen."""

from __future__ import annotations

import base64
from datetime import datetime

from otpgate.service.ports import RandomSource


def new_id(prefix: str, now: datetime, random: RandomSource) -> str:
    millis = int(now.timestamp() * 1000).to_bytes(6, "big")
    # base32hex, not base32: its digits come before its letters, as in ASCII, so the text
    # sorts as the bytes do (base32's "2"-"7" would sort before "a")
    token = base64.b32hexencode(millis + random.token_bytes(9)).decode().lower()
    return f"{prefix}_{token}"


def first_id_at(prefix: str, moment: datetime) -> str:
    """The smallest id `new_id` can give at `moment`: ids from `a` up to, not including, the
    first id at `b` are those made in [a, b), so a time range is a range of an id index."""
    millis = max(0, int(moment.timestamp() * 1000)).to_bytes(6, "big")
    return f"{prefix}_{base64.b32hexencode(millis + bytes(9)).decode().lower()}"
