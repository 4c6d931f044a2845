"""Admits or refuses sends and checks: rate limits, spend caps and the SMS-pumping guard."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from otpgate.domain import fraud
from otpgate.domain.errors import FraudBlocked, NotFound, RateLimited
from otpgate.domain.limits import (
    SPEND_CAPS,
    Bucket,
    Quota,
    check_quota,
    destination_prefix,
    failure_quota,
    longest_match,
    send_quotas,
)
from otpgate.domain.phone import PhoneNumber
from otpgate.service.ids import new_id
from otpgate.service.ports import (
    AbuseObserver,
    App,
    Counters,
    FraudBlock,
    FraudBlockStore,
    RandomSource,
    VerificationStore,
)

_REFUSALS = {
    "sends_per_number_10min": "too many codes were sent to this number in the last minutes",
    "sends_per_number_day": "too many codes were sent to this number today",
    "failures_per_number_day": "too many wrong codes were entered for this number today",
    "sends_per_ip_hour": "too many codes were requested from this end-user IP",
    "checks_per_ip_hour": "too many codes were checked from this end-user IP",
    "sends_per_app_minute": "this app is sending faster than its limit",
    "messages_per_day": "this app reached its daily cap of SMS messages",
    "messages_per_country_day": "this app reached its daily cap of SMS messages to this country",
}
_FIELDS = {"sends_per_ip_hour": "end_user_ip", "checks_per_ip_hour": "end_user_ip"}


@dataclass(frozen=True)
class Admission:
    """What an admitted send counted, to give back if it does not happen after all."""

    buckets: tuple[Bucket, ...]


class AbuseGuard:
    def __init__(
        self,
        counters: Counters,
        blocks: FraudBlockStore,
        verifications: VerificationStore,
        random: RandomSource,
        observer: AbuseObserver,
    ) -> None:
        self._counters = counters
        self._blocks = blocks
        self._verifications = verifications
        self._random = random
        self._observer = observer

    def admit_send(
        self, app: App, number: PhoneNumber, *, ip: str | None, parts: int, now: datetime
    ) -> Admission:
        """Count one send against every limit, or refuse it (and count nothing)."""
        settings = app.settings
        guarded = (
            settings.fraud_guard
            and parts > 0
            and not longest_match(number.e164, settings.safe_list)
        )
        prefix = destination_prefix(number.e164, number.calling_code, settings.fraud_prefix_digits)
        if guarded:
            block = self._blocks.active(app.id, prefix, now)
            if block is not None and block.lifted_at is None:
                self._observer.refused(app.id, "fraud_guard")
                raise _blocked(block, now)
            # a block an admin lifted vouches for the prefix until it would have expired
            guarded = block is None
        quotas = send_quotas(app.id, settings, number.e164, number.country, ip=ip, parts=parts)
        if guarded:
            quotas.extend(fraud.counting_quotas(app.id, prefix))
        buckets = tuple(quota.bucket(now) for quota in quotas)
        refused = self._counters.acquire(buckets, now)
        if refused is not None:
            self._refuse(app, quotas[refused], now)
        if guarded:
            try:
                self._judge(app, number, prefix, now)
            except FraudBlocked:
                self._counters.release(buckets, now)
                raise
        return Admission(buckets)

    def release(self, admission: Admission, now: datetime) -> None:
        self._counters.release(admission.buckets, now)

    def admit_check(self, app: App, ip: str, now: datetime) -> None:
        quota = check_quota(app.id, app.settings, ip)
        if self._counters.acquire([quota.bucket(now)], now) is not None:
            self._refuse(app, quota, now)

    def failure_budget_spent(self, app: App, e164: str, now: datetime) -> bool:
        """Count one wrong code for the number; True once its budget for the day is spent."""
        quota = failure_quota(app.id, app.settings, e164)
        assert quota.limit is not None
        return self._counters.add(quota.bucket(now), now) >= quota.limit

    def blocks(self, app: App, now: datetime) -> list[FraudBlock]:
        return self._blocks.list(app.id, now)

    def lift(self, app: App, block_id: str, now: datetime) -> FraudBlock:
        lifted = self._blocks.lift(app.id, block_id, now)
        if lifted is None:
            raise NotFound("no such block in force")
        return lifted

    def _refuse(self, app: App, quota: Quota, now: datetime) -> None:
        retry_after = quota.retry_after(now)
        self._observer.refused(app.id, quota.name)
        if quota.name in SPEND_CAPS:
            # one alert per cap and window, however many sends it refuses
            alert = Bucket(f"alerted:{quota.bucket(now).key}", 1, 1, quota.window_seconds + 60)
            if self._counters.acquire([alert], now) is None:
                assert quota.limit is not None
                self._observer.spend_cap_reached(app.id, quota.name, quota.limit, retry_after)
        raise RateLimited(
            _REFUSALS.get(quota.name, "too many requests"),
            retry_after=retry_after,
            field=_FIELDS.get(quota.name, "to"),
            limit=quota.name,
        )

    def _judge(self, app: App, number: PhoneNumber, prefix: str, now: datetime) -> None:
        thresholds = fraud.PumpingThresholds.of(app.settings)
        recent_keys = fraud.recent_keys(app.id, prefix, now)
        counts = self._counters.read([*recent_keys, *fraud.baseline_keys(app.id, prefix, now)], now)
        recent = sum(counts[: len(recent_keys)])
        baseline = sum(counts[len(recent_keys) :]) / fraud.BASELINE_HOURS
        if not fraud.is_surge(recent, baseline, thresholds):
            return
        since = now - timedelta(seconds=fraud.RECENT_BUCKETS * fraud.RECENT_BUCKET_SECONDS)
        started, approved = self._verifications.conversion(app.id, prefix, since)
        traffic = fraud.PrefixTraffic(recent, baseline, started, approved)
        if not fraud.looks_like_pumping(traffic, thresholds):
            return
        candidate = FraudBlock(
            id=new_id("blk", now, self._random),
            app_id=app.id,
            prefix=prefix,
            country=number.country,
            recent_sends=recent,
            baseline_per_hour=round(baseline, 2),
            started=started,
            approved=approved,
            created_at=now,
            expires_at=now + timedelta(seconds=thresholds.block_seconds),
            lifted_at=None,
        )
        block = self._blocks.insert(candidate, now)
        if block.id == candidate.id:  # not a block another process made a moment ago
            self._observer.fraud_blocked(block)
        self._observer.refused(app.id, "fraud_guard")
        raise _blocked(block, now)


def _blocked(block: FraudBlock, now: datetime) -> FraudBlocked:
    return FraudBlocked(
        f"sends to {block.prefix}… are blocked for this app until "
        f"{block.expires_at:%Y-%m-%dT%H:%M:%SZ}: many codes, few entered (suspected SMS pumping)",
        block_id=block.id,
        prefix=block.prefix,
        retry_after=int((block.expires_at - now).total_seconds()),
    )
