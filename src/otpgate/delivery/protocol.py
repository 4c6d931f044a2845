"""What a provider adapter is, and how it reports success and the two kinds of failure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from otpgate.domain.verification import DeliveryStatus


@dataclass(frozen=True)
class OutgoingSms:
    message_id: str  # ours; providers that take an idempotency or client reference get it
    app_id: str
    verification_id: str
    to: str
    sender: str | None
    body: str


@dataclass(frozen=True)
class SendReceipt:
    provider_message_id: str | None
    # the outbox knows at once that its message arrived; real networks report it later
    status: DeliveryStatus = DeliveryStatus.SENT
    keep_body: bool = False  # only the developer outbox, which shows texts back


class TransientSendError(Exception):
    """Try again later, or on the next provider: timeouts, 5xx, 429, throttling."""


class PermanentSendError(Exception):
    """No retry can help: an invalid destination, a rejected sender."""


class SmsSender(Protocol):
    name: str

    async def send(self, sms: OutgoingSms) -> SendReceipt: ...

    async def close(self) -> None: ...
