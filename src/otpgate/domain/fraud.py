"""The SMS-pumping guard's rule: a prefix whose sends jump far above its own baseline while
few of its verifications are approved looks like pumping (docs/abuse.md has the numbers).

Sends are counted per (app, channel, prefix) in 10-minute buckets for the recent hour and in hourly
buckets for the 24 hours before it; conversion is read from the verifications themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from otpgate.domain.limits import HOUR, Quota
from otpgate.domain.policy import AppSettings

RECENT_BUCKET_SECONDS = 600
RECENT_BUCKETS = 6  # the recent window: the last hour, sliding by 10 minutes
BASELINE_HOURS = 24  # the baseline: the 24 hours before the current one
# a send to a number the network calls unreachable or high-risk counts as this many recent
# sends: a handful of them look like the surge of a pumping run sooner (docs/lookups.md)
SUSPICIOUS_SEND_WEIGHT = 5


@dataclass(frozen=True)
class PumpingThresholds:
    min_sends: int
    velocity_factor: int
    max_conversion: float  # 0.0 to 1.0
    block_seconds: int

    @classmethod
    def of(cls, settings: AppSettings) -> PumpingThresholds:
        return cls(
            min_sends=settings.fraud_min_sends,
            velocity_factor=settings.fraud_velocity_factor,
            max_conversion=settings.fraud_max_conversion_percent / 100,
            block_seconds=settings.fraud_block_seconds,
        )


@dataclass(frozen=True)
class PrefixTraffic:
    recent_sends: int  # in the recent window, this send included
    baseline_per_hour: float  # average sends an hour over the baseline window
    started: int  # verifications created in the recent window
    approved: int  # of those, approved

    @property
    def conversion(self) -> float:
        return self.approved / self.started if self.started else 0.0


def _subject(app_id: str, prefix: str, channel: str) -> str:
    # each channel has its own traffic and baseline: a voice-pumping run is a surge of calls
    # (SMS keeps the spelling its counters had before there were channels)
    return f"{app_id}:{prefix}" if channel == "sms" else f"{app_id}:{channel}:{prefix}"


def _recent(app_id: str, prefix: str, channel: str, cost: int = 1) -> Quota:
    subject = _subject(app_id, prefix, channel)
    return Quota("prefix_sends_10min", subject, None, RECENT_BUCKET_SECONDS, cost)


def _hourly(app_id: str, prefix: str, channel: str) -> Quota:
    return Quota("prefix_sends_hour", _subject(app_id, prefix, channel), None, HOUR)


def counting_quotas(
    app_id: str, prefix: str, weight: int = 1, channel: str = "sms"
) -> tuple[Quota, Quota]:
    """What one send to the prefix adds to: never refused, only read by the guard. `weight`
    counts a suspicious send as several in the recent window only: the baseline stays the
    prefix's real traffic."""
    return _recent(app_id, prefix, channel, weight), _hourly(app_id, prefix, channel)


def recent_keys(app_id: str, prefix: str, now: datetime, channel: str = "sms") -> list[str]:
    quota = _recent(app_id, prefix, channel)
    start = quota.window_start(now)
    return [
        f"{quota.name}:{quota.subject}:{start - step * RECENT_BUCKET_SECONDS}"
        for step in range(RECENT_BUCKETS)
    ]


def baseline_keys(app_id: str, prefix: str, now: datetime, channel: str = "sms") -> list[str]:
    quota = _hourly(app_id, prefix, channel)
    start = quota.window_start(now)
    return [
        f"{quota.name}:{quota.subject}:{start - hours * HOUR}"
        for hours in range(1, BASELINE_HOURS + 1)
    ]


def is_surge(recent_sends: int, baseline_per_hour: float, thresholds: PumpingThresholds) -> bool:
    """Enough sends to judge, and far more than this prefix usually gets in an hour."""
    return recent_sends >= max(thresholds.min_sends, thresholds.velocity_factor * baseline_per_hour)


def looks_like_pumping(traffic: PrefixTraffic, thresholds: PumpingThresholds) -> bool:
    """Real people enter their codes; pumped numbers never do."""
    return (
        is_surge(traffic.recent_sends, traffic.baseline_per_hour, thresholds)
        and traffic.conversion < thresholds.max_conversion
    )
