"""Vonage's SMS API (`/sms/json`), and the one receipt route of every Vonage channel: SMS
delivery receipts (signed with `sig` when a secret is set), and the call events and WhatsApp
statuses of the Voice and Messages APIs (a JWT signed with the same signature secret)."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from otpgate.delivery.protocol import (
    InboundReceipt,
    OutgoingSms,
    PermanentSendError,
    SendReceipt,
    TransientSendError,
)
from otpgate.delivery.senders.vonage_application import verify_signed_webhook
from otpgate.domain.errors import Forbidden, ValidationFailed
from otpgate.domain.gsm import is_gsm7
from otpgate.domain.verification import DeliveryStatus
from otpgate.service.ports import ReceiptRequest

NAME = "vonage"
RECEIPT_PATH = "/v1/receipts/vonage"
DEFAULT_SENDER = "otpgate"
# SMS API status codes about the message itself; the rest (throttling, credentials, account,
# internal errors) may pass on another try or another provider.
PERMANENT_STATUSES = frozenset({"2", "3", "6", "7", "12", "15", "22", "29", "33"})
_RECEIPT_STATUSES = {
    "delivered": DeliveryStatus.DELIVERED,
    "expired": DeliveryStatus.UNDELIVERED,
    "failed": DeliveryStatus.UNDELIVERED,
    "rejected": DeliveryStatus.UNDELIVERED,
}
SIGNATURE_MAX_AGE_SECONDS = 300
# a call is delivered once answered (the talk action starts then); `completed` follows any
# call, answered or not, so it says nothing new
_CALL_STATUSES = {
    "answered": DeliveryStatus.DELIVERED,
    "busy": DeliveryStatus.UNDELIVERED,
    "cancelled": DeliveryStatus.UNDELIVERED,
    "failed": DeliveryStatus.UNDELIVERED,
    "rejected": DeliveryStatus.UNDELIVERED,
    "timeout": DeliveryStatus.UNDELIVERED,
    "unanswered": DeliveryStatus.UNDELIVERED,
}
_MESSAGE_STATUSES = {
    "submitted": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.DELIVERED,
    "rejected": DeliveryStatus.UNDELIVERED,
    "undeliverable": DeliveryStatus.UNDELIVERED,
}


def vonage_signature(params: Mapping[str, Any], secret: str, method: str) -> str:
    """Vonage's request signature: the parameters but `sig`, sorted, as `&name=value` with `&`
    and `=` in values turned into `_`; then MD5 of that and the secret (`md5hash`), or an
    HMAC of it keyed with the secret (`md5`, `sha1`, `sha256`, `sha512`); lower-case hex."""
    signed = "".join(
        f"&{name}={str(params[name]).replace('&', '_').replace('=', '_')}"
        for name in sorted(params)
        if name != "sig"
    )
    if method == "md5hash":
        return hashlib.md5((signed + secret).encode()).hexdigest()
    return hmac.new(secret.encode(), signed.encode(), method).hexdigest()


@dataclass(frozen=True)
class VonageConfig:
    api_key: str
    api_secret: str
    base_url: str
    callback: str | None
    timeout_seconds: float = 10.0


class VonageSender:
    name = NAME

    def __init__(self, config: VonageConfig) -> None:
        self._config = config
        self._client: httpx.AsyncClient | None = None

    async def send(self, sms: OutgoingSms) -> SendReceipt:
        config = self._config
        form = {
            "api_key": config.api_key,
            "api_secret": config.api_secret,
            "from": sms.sender or DEFAULT_SENDER,
            "to": sms.to.lstrip("+"),
            "text": sms.body,
            "type": "text" if is_gsm7(sms.body) else "unicode",
            "client-ref": sms.message_id,
        }
        if config.callback:
            form["callback"] = config.callback
            form["status-report-req"] = "1"
        url = config.base_url.rstrip("/") + "/sms/json"
        try:
            answer = await self._http().post(url, data=form)
        except httpx.TimeoutException as exc:
            raise TransientSendError(f"timeout ({type(exc).__name__})") from None
        except httpx.HTTPError as exc:
            raise TransientSendError(f"connection failed ({type(exc).__name__})") from None
        if answer.status_code != 200:
            kind = PermanentSendError if answer.status_code in (400, 404, 422) else None
            raise (kind or TransientSendError)(f"HTTP {answer.status_code}")
        try:
            parts = answer.json()["messages"]
        except (ValueError, KeyError, TypeError):
            raise TransientSendError("vonage answered without messages") from None
        for part in parts:
            status = str(part.get("status"))
            if status != "0":
                error = f"vonage status {status}"
                raise (PermanentSendError if status in PERMANENT_STATUSES else TransientSendError)(
                    error
                )
        # a long text goes out as parts with ids of their own; receipts carry our client-ref
        first = parts[0].get("message-id") if parts else None
        return SendReceipt(provider_message_id=str(first) if first else None)

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self._config.timeout_seconds)
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


class VonageReceiptReader:
    name = NAME

    def __init__(
        self,
        signature_secret: str | None,
        signature_method: str = "md5hash",
        *,
        now: Any = time.time,
    ) -> None:
        self._secret = signature_secret
        self._method = signature_method
        self._now = now

    def read(self, request: ReceiptRequest) -> list[InboundReceipt]:
        if "authorization" in request.headers:
            verify_signed_webhook(request, self._secret, self._now())
            return _signed_event(request)
        params: dict[str, Any] = {**request.query, **request.form}
        if isinstance(request.json, dict):
            params.update(request.json)
        if self._secret is not None:
            self._check_signature(params)
        provider_id = params.get("messageId") or params.get("message-id")
        status = params.get("status")
        if not provider_id or not status:
            raise ValidationFailed("a delivery receipt needs messageId and status")
        mapped = _RECEIPT_STATUSES.get(str(status))
        if mapped is None:
            return []  # accepted, buffered, unknown: not a final word
        error_code = params.get("err-code")
        client_ref = params.get("client-ref")
        return [
            InboundReceipt(
                provider=NAME,
                status=mapped,
                provider_message_id=None if client_ref else str(provider_id),
                message_id=str(client_ref) if client_ref else None,
                error=None
                if mapped is DeliveryStatus.DELIVERED
                else f"vonage {status} {error_code or ''}".strip(),
            )
        ]

    def _check_signature(self, params: Mapping[str, Any]) -> None:
        assert self._secret is not None
        given = str(params.get("sig", "")).lower()
        expected = vonage_signature(params, self._secret, self._method)
        if not given or not hmac.compare_digest(given.encode(), expected.encode()):
            raise Forbidden("the receipt signature does not match")
        try:
            signed_at = int(str(params.get("timestamp")))
        except ValueError:
            raise Forbidden("a signed receipt needs its timestamp") from None
        if abs(self._now() - signed_at) > SIGNATURE_MAX_AGE_SECONDS:
            raise Forbidden("the receipt signature is too old")


def _signed_event(request: ReceiptRequest) -> list[InboundReceipt]:
    """A Messages API status (it names `message_uuid`) or a Voice API call event (`uuid`)."""
    event = request.json
    if not isinstance(event, dict):
        raise ValidationFailed("a signed Vonage webhook is a JSON object")
    status = str(event.get("status", ""))
    if "message_uuid" in event:
        mapped = _MESSAGE_STATUSES.get(status)
        provider_id = event.get("message_uuid")
    else:
        mapped = _CALL_STATUSES.get(status)
        provider_id = event.get("uuid")
    if mapped is None or not isinstance(provider_id, str):
        return []  # started, ringing, completed, a transfer: nothing new for us
    client_ref = event.get("client_ref")
    ours = client_ref if isinstance(client_ref, str) and client_ref else None
    return [
        InboundReceipt(
            provider=NAME,
            status=mapped,
            provider_message_id=None if ours else provider_id,
            message_id=ours,
            error=None if mapped is not DeliveryStatus.UNDELIVERED else _event_error(event),
        )
    ]


def _event_error(event: dict[str, Any]) -> str:
    """`vonage busy`, or `vonage rejected 1340` with the Messages API's error code."""
    error = event.get("error")
    code = error.get("title") if isinstance(error, dict) else None
    words = f"vonage {event['status']}" + (f" {code}" if isinstance(code, int) else "")
    return words[:60]
