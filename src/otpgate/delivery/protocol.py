"""What a provider adapter is, and how it reports success and the two kinds of failure."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from otpgate.domain.verification import DeliveryStatus
from otpgate.service.ports import ReceiptRequest


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


@dataclass(frozen=True)
class OutgoingCall:
    """A voice call that speaks the code: `speech` is the whole text said, in `language`."""

    message_id: str
    app_id: str
    verification_id: str
    to: str
    caller_id: str | None
    speech: str
    language: str  # BCP 47 with its region where the provider's voices need one ("fr-FR")


class CallSender(Protocol):
    name: str  # also the receipt route's name for its status callbacks (/v1/receipts/{name})

    async def call(self, call: OutgoingCall) -> SendReceipt: ...

    async def close(self) -> None: ...


@dataclass(frozen=True)
class OutgoingWhatsApp:
    """A WhatsApp authentication message: the provider's approved template filled with `code`
    (and its copy-code button); `body` is the text as the outbox shows it."""

    message_id: str
    app_id: str
    verification_id: str
    to: str
    sender: str | None
    code: str
    language: str
    body: str


class WhatsAppSender(Protocol):
    name: str  # also the receipt route's name for its status webhooks (/v1/receipts/{name})

    async def send_whatsapp(self, message: OutgoingWhatsApp) -> SendReceipt: ...

    async def close(self) -> None: ...


@dataclass(frozen=True)
class InboundReceipt:
    """What a provider reported about a message it accepted: found by the provider's id, or by
    ours when the provider echoes a client reference back."""

    provider: str
    status: DeliveryStatus  # SENT, DELIVERED or UNDELIVERED
    provider_message_id: str | None = None
    message_id: str | None = None
    error: str | None = None  # a provider's error code, never its free text


class ReceiptReader(Protocol):
    """Checks that a receipt call really comes from the provider and reads what it reports.
    Raises `Forbidden` for a bad signature or token, `ValidationFailed` for a malformed call."""

    name: str

    def read(self, request: ReceiptRequest) -> list[InboundReceipt]: ...


@runtime_checkable
class ReceiptHandshake(Protocol):
    """A reader whose provider proves the receipt route before it sends to it (Meta's GET
    with `hub.challenge`). Raises `Forbidden` when the request's token is wrong."""

    def challenge(self, request: ReceiptRequest) -> str | None:
        """The text to answer with, or None when the request is no handshake."""
        ...


# Senders that learn of receipts on their own connection (SMPP) hand them here.
ReceiptSink = Callable[[InboundReceipt], Awaitable[None]]
