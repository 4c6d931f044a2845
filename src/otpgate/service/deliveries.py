"""What became of each message: receipts from providers, and the list an app may read."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from otpgate.domain.errors import NotFound
from otpgate.domain.verification import Verification
from otpgate.service.app_directory import AppDirectory
from otpgate.service.ports import (
    App,
    Clock,
    DeliveryLog,
    MessageRecord,
    Observer,
    ReceiptUpdate,
    Transaction,
    Transactions,
    VerificationStore,
)


class DeliveryTracker:
    def __init__(
        self,
        log: DeliveryLog,
        verifications: VerificationStore,
        clock: Clock,
        observer: Observer,
        transactions: Transactions,
        on_change: Callable[[Transaction, Verification], None] = lambda _tx, _verification: None,
    ) -> None:
        self._transactions = transactions  # a change and its webhook commit together
        self._log = log
        self._verifications = verifications
        self._clock = clock
        self._observer = observer
        self._on_change = on_change  # status webhooks

    def record_receipt(self, update: ReceiptUpdate) -> bool:
        """Apply one provider report; True when it changed the verification's delivery."""
        with self._transactions() as tx:
            changed = self._log.record_receipt(tx, update, self._clock.now())
            if changed is not None:
                self._on_change(tx, changed)
        if changed is None:
            return False
        self._observer.message_status(update.status)
        return True

    def record_receipts(self, updates: Sequence[ReceiptUpdate]) -> int:
        """Apply a batch of reports at once; how many changed a verification's delivery."""
        with self._transactions() as tx:
            changed = self._log.record_receipts(tx, updates, self._clock.now())
            for verification in changed:
                self._on_change(tx, verification)
        for verification in changed:
            self._observer.message_status(verification.delivery_status)
        return len(changed)

    def reconcile(self) -> None:
        with self._transactions() as tx:
            for verification in self._log.reconcile(tx, self._clock.now()):
                self._on_change(tx, verification)

    def messages(self, app: App, verification_id: str) -> list[MessageRecord]:
        if self._verifications.get(app.id, verification_id) is None:
            raise NotFound("no such verification", field="verification_id")
        return self._log.messages_of(app.id, verification_id)


class ProviderRoutes:
    """Which providers, in which order, each app's messages go through: the apps that set
    `sms_providers`; the others use the server's list. Read from the app directory, so a
    batch of messages costs no settings lookups."""

    def __init__(self, apps: AppDirectory) -> None:
        self._apps = apps

    def __call__(self, app_ids: set[str]) -> dict[str, Sequence[str]]:
        routes: dict[str, Sequence[str]] = {}
        for app_id in app_ids:
            app = self._apps.app(app_id)
            if app is not None and app.settings.sms_providers:
                routes[app_id] = app.settings.sms_providers
        return routes
