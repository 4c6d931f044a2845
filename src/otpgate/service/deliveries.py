"""What became of each message: receipts from providers, and the list an app may read."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from otpgate.domain.errors import NotFound
from otpgate.domain.verification import Verification
from otpgate.service.ports import (
    App,
    Clock,
    DeliveryLog,
    MessageRecord,
    Observer,
    ReceiptUpdate,
    VerificationStore,
)


class DeliveryTracker:
    def __init__(
        self,
        log: DeliveryLog,
        verifications: VerificationStore,
        clock: Clock,
        observer: Observer,
        on_change: Callable[[Verification], None] = lambda _verification: None,
    ) -> None:
        self._log = log
        self._verifications = verifications
        self._clock = clock
        self._observer = observer
        self._on_change = on_change  # status webhooks

    def record_receipt(self, update: ReceiptUpdate) -> bool:
        """Apply one provider report; True when it changed the verification's delivery."""
        changed = self._log.record_receipt(update, self._clock.now())
        if changed is None:
            return False
        self._observer.message_status(update.status)
        self._on_change(changed)
        return True

    def record_receipts(self, updates: Sequence[ReceiptUpdate]) -> int:
        """Apply a batch of reports at once; how many changed a verification's delivery."""
        changed = self._log.record_receipts(updates, self._clock.now())
        for verification in changed:
            self._observer.message_status(verification.delivery_status)
            self._on_change(verification)
        return len(changed)

    def reconcile(self) -> None:
        for verification in self._log.reconcile(self._clock.now()):
            self._on_change(verification)

    def messages(self, app: App, verification_id: str) -> list[MessageRecord]:
        if self._verifications.get(app.id, verification_id) is None:
            raise NotFound("no such verification", field="verification_id")
        return self._log.messages_of(app.id, verification_id)
