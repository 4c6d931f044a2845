"""Conversion and delivery analytics: counts over a time range, and each provider's health."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from phonenumbers import COUNTRY_CODE_TO_REGION_CODE

from otpgate.domain.errors import ValidationFailed
from otpgate.domain.limits import destination_prefix
from otpgate.domain.policy import AppSettings
from otpgate.domain.verification import DeliveryStatus
from otpgate.service.ports import App, Clock

GROUPS = ("day", "country", "channel", "provider", "prefix")
DEFAULT_DAYS = 30
MAX_DAYS = 366  # a range is a scan of its rows: a year at most
WINDOWS = (("hour", timedelta(hours=1)), ("day", timedelta(days=1)))


@dataclass(frozen=True)
class SummaryQuery:
    app_id: str | None  # None: every app (the console's "all apps")
    start: datetime
    end: datetime
    group_by: str | None = None
    country: str | None = None
    channel: str | None = None
    prefix_digits: int = AppSettings().fraud_prefix_digits


@dataclass(frozen=True)
class SummaryRow:
    key: str
    verifications: int
    approved: int
    messages: int
    delivered: int
    undelivered: int  # undelivered or failed

    @property
    def conversion_rate(self) -> float | None:
        return self.approved / self.verifications if self.verifications else None

    def plus(self, other: SummaryRow) -> SummaryRow:
        return replace(
            self,
            verifications=self.verifications + other.verifications,
            approved=self.approved + other.approved,
            messages=self.messages + other.messages,
            delivered=self.delivered + other.delivered,
            undelivered=self.undelivered + other.undelivered,
        )


@dataclass(frozen=True)
class Summary:
    start: datetime
    end: datetime
    total: SummaryRow
    groups: list[SummaryRow]


@dataclass(frozen=True)
class Backlog:
    waiting: int
    failed_last_day: int


@dataclass(frozen=True)
class DeliveryTiming:
    provider: str | None
    channel: str
    status: DeliveryStatus
    queued_at: datetime
    sent_at: datetime | None
    delivered_at: datetime | None


@dataclass(frozen=True)
class ProviderHealth:
    provider: str
    channel: str
    window: str  # "hour" or "day"
    messages: int
    delivered_share: float | None
    failed_share: float | None
    accepted_p50: float | None  # seconds from queued to accepted by the provider
    accepted_p95: float | None
    delivered_p50: float | None  # seconds from queued to delivered
    delivered_p95: float | None


class AnalyticsStore(Protocol):
    def summary(self, query: SummaryQuery) -> tuple[SummaryRow, list[SummaryRow]]: ...

    def delivery_timings(self, start: datetime, end: datetime) -> list[DeliveryTiming]: ...

    def backlog(self, since: datetime) -> tuple[int, int]: ...


class AnalyticsService:
    def __init__(self, store: AnalyticsStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    def summary(
        self,
        app: App | None,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        group_by: str | None = None,
        country: str | None = None,
        channel: str | None = None,
    ) -> Summary:
        """One app's figures (every app's with None) for [start, end), by default the last
        30 days; `group_by` day, country, channel, provider or prefix."""
        # by default up to and including now: `to` itself is excluded
        end = end or self._clock.now() + timedelta(milliseconds=1)
        start = start or end - timedelta(days=DEFAULT_DAYS)
        if start >= end:
            raise ValidationFailed("from must be before to", field="from")
        if end - start > timedelta(days=MAX_DAYS):
            raise ValidationFailed(f"from and to are at most {MAX_DAYS} days apart", field="from")
        if group_by is not None and group_by not in GROUPS:
            raise ValidationFailed(f"group_by is one of {', '.join(GROUPS)}", field="group_by")
        digits = (app.settings if app else AppSettings()).fraud_prefix_digits
        query = SummaryQuery(
            app.id if app else None, start, end, group_by, country, channel, digits
        )
        total, groups = self._store.summary(query)
        if group_by == "prefix":
            groups = _merged_prefixes(groups, digits)
        elif group_by == "day":
            groups = _every_day(groups, start, end)
        else:
            groups.sort(key=lambda row: (-row.verifications, row.key))
        return Summary(start, end, total, groups)

    def backlog(self) -> Backlog:
        """Messages waiting now, and messages failed or undelivered in the last day."""
        waiting, failed = self._store.backlog(self._clock.now() - timedelta(days=1))
        return Backlog(waiting, failed)

    def providers(self) -> list[ProviderHealth]:
        """Per provider and channel, for the last hour and the last day."""
        now = self._clock.now()
        longest = max(length for _, length in WINDOWS)
        timings = self._store.delivery_timings(now - longest, now + timedelta(milliseconds=1))
        health = []
        for window, length in WINDOWS:
            since = now - length
            groups: dict[tuple[str, str], list[DeliveryTiming]] = {}
            for timing in timings:
                if timing.queued_at >= since:
                    key = (timing.provider or "unassigned", timing.channel)
                    groups.setdefault(key, []).append(timing)
            health += [_health(key, window, items) for key, items in sorted(groups.items())]
        return health


def _health(key: tuple[str, str], window: str, items: Sequence[DeliveryTiming]) -> ProviderHealth:
    count = len(items)
    delivered = sum(1 for item in items if item.status is DeliveryStatus.DELIVERED)
    failed = sum(
        1 for item in items if item.status in (DeliveryStatus.FAILED, DeliveryStatus.UNDELIVERED)
    )
    accepted = sorted(
        (item.sent_at - item.queued_at).total_seconds() for item in items if item.sent_at
    )
    arrived = sorted(
        (item.delivered_at - item.queued_at).total_seconds() for item in items if item.delivered_at
    )
    return ProviderHealth(
        provider=key[0],
        channel=key[1],
        window=window,
        messages=count,
        delivered_share=delivered / count if count else None,
        failed_share=failed / count if count else None,
        accepted_p50=_percentile(accepted, 50),
        accepted_p95=_percentile(accepted, 95),
        delivered_p50=_percentile(arrived, 50),
        delivered_p95=_percentile(arrived, 95),
    )


def _percentile(ordered: Sequence[float], percent: int) -> float | None:
    """The nearest-rank percentile: a value that was measured, never one between two."""
    if not ordered:
        return None
    rank = max(1, math.ceil(percent / 100 * len(ordered)))
    return round(ordered[rank - 1], 3)


def _merged_prefixes(rows: Sequence[SummaryRow], digits: int) -> list[SummaryRow]:
    """The store groups by a few digits too many (it does not know calling codes): cut each
    key to the number's real prefix (the pumping guard's) and add up those that meet."""
    merged: dict[str, SummaryRow] = {}
    for row in rows:
        code = _calling_code(row.key)
        prefix = destination_prefix(row.key, code, digits) if code else row.key
        merged[prefix] = merged[prefix].plus(row) if prefix in merged else replace(row, key=prefix)
    return sorted(merged.values(), key=lambda row: (-row.verifications, row.key))


def _calling_code(e164_start: str) -> int | None:
    # calling codes are prefix-free: at most one of the first 1 to 3 digits is one
    for length in (1, 2, 3):
        candidate = e164_start[1 : 1 + length]
        if candidate.isdigit() and int(candidate) in COUNTRY_CODE_TO_REGION_CODE:
            return int(candidate)
    return None


def _every_day(rows: Sequence[SummaryRow], start: datetime, end: datetime) -> list[SummaryRow]:
    """Every day of the range, those without verifications at zero, so a chart has no gaps."""
    found = {row.key: row for row in rows}
    days = []
    day = start.date()
    while day < end.date() or (day == end.date() and end.time() != datetime.min.time()):
        key = day.isoformat()
        days.append(found.get(key, SummaryRow(key, 0, 0, 0, 0, 0)))
        day += timedelta(days=1)
    return days
