"""What became of each message: receipts from providers, and the list an app may read."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from otpgate.domain.errors import NotFound
from otpgate.domain.verification import Verification
from otpgate.service.ports import (
    App,
    AppStore,
    Clock,
    DeliveryLog,
    MessageRecord,
    Observer,
    ReceiptUpdate,
    Transaction,
    VerificationStore,
)


class DeliveryTracker:
    def __init__(
        self,
        log: DeliveryLog,
        verifications: VerificationStore,
        clock: Clock,
        observer: Observer,
        transaction: Transaction,
        on_change: Callable[[Verification], None] = lambda _verification: None,
    ) -> None:
        self._transaction = transaction  # a change and its webhook commit together
        self._log = log
        self._verifications = verifications
        self._clock = clock
        self._observer = observer
        self._on_change = on_change  # status webhooks

    def record_receipt(self, update: ReceiptUpdate) -> bool:
        """Apply one provider report; True when it changed the verification's delivery."""
        with self._transaction():
            changed = self._log.record_receipt(update, self._clock.now())
            if changed is not None:
                self._on_change(changed)
        if changed is None:
            return False
        self._observer.message_status(update.status)
        return True

    def record_receipts(self, updates: Sequence[ReceiptUpdate]) -> int:
        """Apply a batch of reports at once; how many changed a verification's delivery."""
        with self._transaction():
            changed = self._log.record_receipts(updates, self._clock.now())
            for verification in changed:
                self._on_change(verification)
        for verification in changed:
            self._observer.message_status(verification.delivery_status)
        return len(changed)

    def reconcile(self) -> None:
        with self._transaction():
            for verification in self._log.reconcile(self._clock.now()):
                self._on_change(verification)

    def messages(self, app: App, verification_id: str) -> list[MessageRecord]:
        if self._verifications.get(app.id, verification_id) is None:
            raise NotFound("no such verification", field="verification_id")
        return self._log.messages_of(app.id, verification_id)


class ProviderRoutes:
    """Which providers, in which order, each app's messages go through: the apps that set
    `sms_providers`; the others use the server's list. Read once a while per app, so a
    batch of messages costs no settings lookups."""

    REFRESH = timedelta(seconds=5)

    def __init__(self, apps: AppStore, clock: Clock) -> None:
        self._apps = apps
        self._clock = clock
        self._cache: dict[str, tuple[datetime, tuple[str, ...]]] = {}

    def __call__(self, app_ids: set[str]) -> dict[str, Sequence[str]]:
        now = self._clock.now()
        routes: dict[str, Sequence[str]] = {}
        for app_id in app_ids:
            cached = self._cache.get(app_id)
            if cached is None or now - cached[0] >= self.REFRESH:
                app = self._apps.get_app(app_id)
                cached = (now, app.settings.sms_providers if app is not None else ())
                self._cache[app_id] = cached
            if cached[1]:
                routes[app_id] = cached[1]
        return routes
