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
    Transaction,
    Transactions,
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
class SendScreen:
    """What screening found out before the start's transaction: the prefix the pumping guard
    watches for this send (None: not watched) and what the send costs."""

    prefix: str | None
    parts: int
    weight: int = 1  # how many sends this one counts as in the prefix's recent window
    channel: str = "sms"  # the pumping guard counts each channel's sends apart


class AbuseGuard:
    """Sends go through two steps: `screen_send` (the pumping guard; its blocks must persist
    even though the send is refused, so it writes them in a transaction of its own) before the
    start's transaction, and `admit_send` (the counters) in the transaction it is handed,
    after the re-send rules, so a refused or failed start counts nothing. Refusals are
    reported with `report` in a transaction after the start's."""

    def __init__(
        self,
        transactions: Transactions,
        counters: Counters,
        blocks: FraudBlockStore,
        verifications: VerificationStore,
        random: RandomSource,
        observer: AbuseObserver,
    ) -> None:
        self._transactions = transactions
        self._counters = counters
        self._blocks = blocks
        self._verifications = verifications
        self._random = random
        self._observer = observer

    def screen_send(
        self,
        app: App,
        number: PhoneNumber,
        *,
        parts: int,
        now: datetime,
        suspicious: bool = False,
        channel: str = "sms",
    ) -> SendScreen:
        """Refuse a send to a blocked prefix, or block the prefix if this send tips it over.
        A number the network calls unreachable or high-risk (`suspicious`) counts as
        SUSPICIOUS_SEND_WEIGHT sends toward its prefix's surge (docs/lookups.md)."""
        prefix = self._watched_prefix(app, number, parts, now)
        if prefix is None:
            return SendScreen(None, parts, channel=channel)
        weight = fraud.SUSPICIOUS_SEND_WEIGHT if suspicious else 1
        self._judge(app, number, prefix, now, weight, channel)
        return SendScreen(prefix, parts, weight, channel)

    def _watched_prefix(
        self, app: App, number: PhoneNumber, parts: int, now: datetime
    ) -> str | None:
        """The prefix the guard counts this send toward; refuses a blocked one."""
        settings = app.settings
        if not settings.fraud_guard or not parts or longest_match(number.e164, settings.safe_list):
            return None
        prefix = destination_prefix(number.e164, number.calling_code, settings.fraud_prefix_digits)
        block = self._blocks.active(app.id, prefix, now)
        if block is not None and block.lifted_at is None:
            self._observer.refused(app.id, "fraud_guard")
            raise _blocked(block, now)
        # a block an admin lifted vouches for the prefix until it would have expired
        return None if block is not None else prefix

    def admit_step(
        self, tx: Transaction, app: App, number: PhoneNumber, channel: str, now: datetime
    ) -> None:
        """A workflow's later step: refused by a block or a limit like a send, and counted
        like one (one call, one WhatsApp message, or one SMS); it blocks no prefix itself,
        the next start to the prefix judges the counts it added."""
        prefix = self._watched_prefix(app, number, 1, now)
        self.admit_send(tx, app, number, SendScreen(prefix, 1, channel=channel), ip=None, now=now)

    def admit_send(
        self,
        tx: Transaction,
        app: App,
        number: PhoneNumber,
        screen: SendScreen,
        *,
        ip: str | None,
        now: datetime,
    ) -> None:
        """Count one send against every limit, or refuse it and count nothing."""
        quotas = send_quotas(
            app.id, app.settings, number.e164, number.country, ip=ip, parts=screen.parts
        )
        if screen.prefix is not None:
            quotas.extend(
                fraud.counting_quotas(app.id, screen.prefix, screen.weight, screen.channel)
            )
        refused = self._counters.acquire(tx, [quota.bucket(now) for quota in quotas], now)
        if refused is not None:
            raise _QuotaRefused(quotas[refused], now)

    def report(self, tx: Transaction, app: App, refusal: RateLimited, now: datetime) -> None:
        """Metrics, and one alert per spend cap and window, after a refused start."""
        self._observer.refused(app.id, refusal.limit or "resend")
        if refusal.limit not in SPEND_CAPS or not isinstance(refusal, _QuotaRefused):
            return
        quota = refusal.quota
        alert = Bucket(f"alerted:{quota.bucket(now).key}", 1, 1, quota.window_seconds + 60)
        if self._counters.acquire(tx, [alert], now) is None:
            assert quota.limit is not None
            self._observer.spend_cap_reached(
                tx, app.id, quota.name, quota.limit, refusal.retry_after
            )

    def admit_check(self, tx: Transaction, app: App, ip: str, now: datetime) -> None:
        quota = check_quota(app.id, app.settings, ip)
        if self._counters.acquire(tx, [quota.bucket(now)], now) is not None:
            self._observer.refused(app.id, quota.name)
            raise _QuotaRefused(quota, now)

    def failure_budget_spent(self, tx: Transaction, app: App, e164: str, now: datetime) -> bool:
        """Count one wrong code for the number; True once its budget for the day is spent."""
        quota = failure_quota(app.id, app.settings, e164)
        assert quota.limit is not None
        return self._counters.add(tx, quota.bucket(now), now) >= quota.limit

    def blocks(self, app: App, now: datetime) -> list[FraudBlock]:
        return self._blocks.list(app.id, now)

    def lift(self, app: App, block_id: str, now: datetime) -> FraudBlock:
        with self._transactions() as tx:
            lifted = self._blocks.lift(tx, app.id, block_id, now)
        if lifted is None:
            raise NotFound("no such block in force")
        return lifted

    def _judge(
        self, app: App, number: PhoneNumber, prefix: str, now: datetime, weight: int, channel: str
    ) -> None:
        thresholds = fraud.PumpingThresholds.of(app.settings)
        # this send included
        recent_keys = fraud.recent_keys(app.id, prefix, now, channel)
        recent = sum(self._counters.read(recent_keys, now)) + weight
        if recent < thresholds.min_sends:  # no surge, whatever the baseline: skip reading it
            return
        baseline_keys = fraud.baseline_keys(app.id, prefix, now, channel)
        baseline_counts = self._counters.read(baseline_keys, now)
        baseline = sum(baseline_counts) / fraud.BASELINE_HOURS
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
        with self._transactions() as tx:
            block = self._blocks.insert(tx, candidate, now)
            if block.id == candidate.id:  # not a block another process made a moment ago
                self._observer.fraud_blocked(tx, block)  # its webhook commits with it
        self._observer.refused(app.id, "fraud_guard")
        raise _blocked(block, now)


class _QuotaRefused(RateLimited):
    """A refusal by one of the counted limits; carries the quota for the spend-cap alert."""

    def __init__(self, quota: Quota, now: datetime) -> None:
        super().__init__(
            _REFUSALS[quota.name],
            retry_after=quota.retry_after(now),
            field=_FIELDS.get(quota.name, "to"),
            limit=quota.name,
        )
        self.quota = quota


def _blocked(block: FraudBlock, now: datetime) -> FraudBlocked:
    return FraudBlocked(
        f"sends to {block.prefix}… are blocked for this app until "
        f"{block.expires_at:%Y-%m-%dT%H:%M:%SZ}: many codes, few entered (suspected SMS pumping)",
        block_id=block.id,
        prefix=block.prefix,
        retry_after=int((block.expires_at - now).total_seconds()),
    )
