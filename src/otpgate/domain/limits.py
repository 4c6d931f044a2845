"""Rate limits as data: which counters a send or a check touches, their keys and windows.

Windows are fixed and aligned to the epoch (a day starts at 00:00 UTC), so every process and
every node computes the same bucket for the same moment without talking to the others.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from otpgate.domain.errors import ValidationFailed
from otpgate.domain.policy import AppSettings

MINUTE = 60
HOUR = 3600
DAY = 86_400
# counters outlive their window a little, so a clock skew between nodes never reads a fresh 0
_TTL_SLACK = 60


@dataclass(frozen=True)
class Bucket:
    """One counter in a store: its key (window start included), and how a call uses it."""

    key: str
    limit: int | None  # None: counted, never refused
    cost: int
    ttl_seconds: int
    consume: bool = True  # False: only require room for `cost`, count nothing


@dataclass(frozen=True)
class Quota:
    """A limit applied to one subject: `limit` units of `cost` per fixed window."""

    name: str  # stable, shown to callers as the problem's `limit`
    subject: str  # the normalised thing counted: app id, E.164 number, /64 network …
    limit: int | None
    window_seconds: int
    cost: int = 1
    consume: bool = True

    def window_start(self, now: datetime) -> int:
        epoch = int(now.timestamp())
        return epoch - epoch % self.window_seconds

    def bucket(self, now: datetime) -> Bucket:
        return Bucket(
            key=f"{self.name}:{self.subject}:{self.window_start(now)}",
            limit=self.limit,
            cost=self.cost,
            ttl_seconds=self.window_seconds + _TTL_SLACK,
            consume=self.consume,
        )

    def retry_after(self, now: datetime) -> int:
        """Seconds until this quota's window ends and the counter starts from zero."""
        end = self.window_start(now) + self.window_seconds
        return max(1, math.ceil(end - now.timestamp()))


def ip_subject(raw: str, *, field: str = "end_user_ip") -> str:
    """An address as a limit key: IPv4 as it is, IPv6 as its /64 (one subscriber's network,
    where any host address is free to pick), an IPv4-mapped IPv6 as the IPv4 it maps."""
    try:
        address = ipaddress.ip_address(raw.strip())
    except ValueError:
        raise ValidationFailed("not an IPv4 or IPv6 address", field=field) from None
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def destination_prefix(e164: str, country_code: int, national_digits: int) -> str:
    """The range a number belongs to: + country code + its first `national_digits` digits."""
    calling = str(country_code)
    return e164[: 1 + len(calling) + national_digits]


def longest_match(e164: str, entries: Mapping[str, str] | tuple[str, ...]) -> str | None:
    """The longest entry that the number starts with; a full number is its own longest prefix."""
    found = [entry for entry in entries if e164.startswith(entry)]
    return max(found, key=len) if found else None


def send_quotas(
    app_id: str,
    settings: AppSettings,
    e164: str,
    country: str | None,
    *,
    ip: str | None,
    parts: int,
) -> list[Quota]:
    """Every limit one send counts against; `parts` is 0 for a test number (no SMS, no cost)."""
    number = f"{app_id}:{e164}"
    quotas = [
        Quota("sends_per_number_10min", number, settings.sends_per_number_10min, 10 * MINUTE),
        Quota("sends_per_number_day", number, settings.sends_per_number_day, DAY),
        # spent by wrong codes (see failure_quota); a send only needs some of it left
        Quota(
            "failures_per_number_day", number, settings.failures_per_number_day, DAY, consume=False
        ),
        Quota("sends_per_app_minute", app_id, settings.sends_per_app_minute, MINUTE),
    ]
    if ip is not None:
        quotas.append(
            Quota("sends_per_ip_hour", f"{app_id}:{ip}", settings.sends_per_ip_hour, HOUR)
        )
    if parts:
        quotas.append(Quota("messages_per_day", app_id, settings.messages_per_day, DAY, parts))
        quotas.append(
            Quota(
                "messages_per_country_day",
                f"{app_id}:{country or 'non-geographic'}",
                settings.messages_per_country_day,
                DAY,
                parts,
            )
        )
    return quotas


def check_quota(app_id: str, settings: AppSettings, ip: str) -> Quota:
    return Quota("checks_per_ip_hour", f"{app_id}:{ip}", settings.checks_per_ip_hour, HOUR)


def failure_quota(app_id: str, settings: AppSettings, e164: str) -> Quota:
    return Quota(
        "failures_per_number_day", f"{app_id}:{e164}", settings.failures_per_number_day, DAY
    )


SPEND_CAPS = frozenset({"messages_per_day", "messages_per_country_day"})
