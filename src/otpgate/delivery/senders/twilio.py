"""Twilio's Messages API, and the StatusCallbacks of its messages and calls, signed with
X-Twilio-Signature (one reader for SMS, WhatsApp and calls: one auth token signs them all)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from otpgate.delivery.protocol import (
    InboundReceipt,
    OutgoingSms,
    PermanentSendError,
    SendReceipt,
    TransientSendError,
)
from otpgate.domain.errors import Forbidden, ValidationFailed
from otpgate.domain.verification import DeliveryStatus
from otpgate.service.ports import ReceiptRequest

NAME = "twilio"
RECEIPT_PATH = "/v1/receipts/twilio"
# Errors about the message itself: no retry, on Twilio or elsewhere, can help.
PERMANENT_ERRORS = frozenset(
    {
        21211,  # invalid 'To' number
        21212,  # invalid 'From' number
        21408,  # no permission to send to this region
        21602,  # body required
        21604,  # 'To' required
        21606,  # 'From' is not a valid sender for this account
        21610,  # the recipient replied STOP
        21612,  # cannot route to this number
        21614,  # 'To' is not a mobile number
        21617,  # body too long
        21635,  # not a valid mobile number
    }
)
# Errors about Twilio or our account, not the message: another try or provider may pass.
TRANSIENT_ERRORS = frozenset({20003, 20429, 20500, 30001})
_RECEIPT_STATUSES = {
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.DELIVERED,  # WhatsApp: read receipts on, it skips `delivered`
    "undelivered": DeliveryStatus.UNDELIVERED,
    "failed": DeliveryStatus.UNDELIVERED,
}
# a call that was answered ends `completed`: the code was spoken
_CALL_STATUSES = {
    "completed": DeliveryStatus.DELIVERED,
    "busy": DeliveryStatus.UNDELIVERED,
    "no-answer": DeliveryStatus.UNDELIVERED,
    "failed": DeliveryStatus.UNDELIVERED,
    "canceled": DeliveryStatus.UNDELIVERED,
}


def twilio_signature(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """As Twilio documents it: HMAC-SHA1 of the URL followed by each parameter, sorted by
    name, as name then value; base64."""
    signed = url + "".join(name + params[name] for name in sorted(params))
    digest = hmac.new(auth_token.encode(), signed.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


@dataclass(frozen=True)
class TwilioConfig:
    account_sid: str
    auth_token: str
    sender: str | None  # a number or an alphanumeric sender id
    messaging_service_sid: str | None
    base_url: str
    status_callback: str | None
    timeout_seconds: float = 10.0


class TwilioSender:
    name = NAME

    def __init__(self, config: TwilioConfig) -> None:
        self._config = config
        self._account = TwilioAccount(
            config.account_sid, config.auth_token, config.base_url, config.timeout_seconds
        )

    async def send(self, sms: OutgoingSms) -> SendReceipt:
        config = self._config
        form = {"To": sms.to, "Body": sms.body}
        if config.messaging_service_sid:
            form["MessagingServiceSid"] = config.messaging_service_sid
            if sms.sender:
                form["From"] = sms.sender
        else:
            form["From"] = sms.sender or config.sender or ""
        if config.status_callback:
            form["StatusCallback"] = config.status_callback
        sid = await self._account.create("Messages", form)
        return SendReceipt(provider_message_id=sid)

    async def close(self) -> None:
        await self._account.close()


class TwilioAccount:
    """Creates resources (Messages, Calls) under one account: Basic auth with the account SID
    and auth token, a form body, the new resource's `sid` back, errors mapped by their code."""

    def __init__(self, account_sid: str, auth_token: str, base_url: str, timeout: float) -> None:
        self._account_sid = account_sid
        self._auth_token = auth_token
        self._base_url = base_url.rstrip("/")
        self._timeout = timeout
        self._client: httpx.AsyncClient | None = None

    async def create(self, resource: str, form: Mapping[str, str]) -> str:
        url = f"{self._base_url}/2010-04-01/Accounts/{self._account_sid}/{resource}.json"
        try:
            answer = await self._http().post(url, data=form)
        except httpx.TimeoutException as exc:
            raise TransientSendError(f"timeout ({type(exc).__name__})") from None
        except httpx.HTTPError as exc:
            raise TransientSendError(f"connection failed ({type(exc).__name__})") from None
        if answer.status_code in (200, 201):
            try:
                sid = answer.json().get("sid")
            except ValueError:
                sid = None
            if not isinstance(sid, str):
                raise TransientSendError(f"twilio answered without the new {resource} sid")
            return sid
        raise _refusal(answer)

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                auth=(self._account_sid, self._auth_token), timeout=self._timeout
            )
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def _refusal(answer: httpx.Response) -> Exception:
    """Twilio's error code decides; its free text can name the number, so it is not kept."""
    try:
        code = answer.json().get("code")
    except (ValueError, AttributeError):
        code = None
    status = answer.status_code
    error = f"twilio error {code} (HTTP {status})"
    if code in PERMANENT_ERRORS:
        return PermanentSendError(error)
    if code in TRANSIENT_ERRORS or status in (401, 403, 408, 429) or status >= 500:
        return TransientSendError(error)  # 401/403: our credentials, not the message
    if 400 <= status < 500:
        return PermanentSendError(error)
    return TransientSendError(error)


class TwilioReceiptReader:
    name = NAME

    def __init__(self, auth_token: str) -> None:
        self._auth_token = auth_token

    def read(self, request: ReceiptRequest) -> list[InboundReceipt]:
        given = request.headers.get("x-twilio-signature", "")
        expected = twilio_signature(self._auth_token, request.url, request.form)
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise Forbidden("the X-Twilio-Signature does not match")
        if "CallSid" in request.form:
            return _call_receipt(request.form)
        sid = request.form.get("MessageSid") or request.form.get("SmsSid")
        status = request.form.get("MessageStatus") or request.form.get("SmsStatus")
        if not sid or not status:
            raise ValidationFailed("a status callback needs MessageSid and MessageStatus")
        mapped = _RECEIPT_STATUSES.get(status)
        if mapped is None:
            return []  # queued, sending, accepted, scheduled: nothing new for us
        code = request.form.get("ErrorCode")
        return [
            InboundReceipt(
                provider=NAME,
                status=mapped,
                provider_message_id=sid,
                error=f"twilio {status} {code}" if code else None,
            )
        ]


def _call_receipt(form: Mapping[str, str]) -> list[InboundReceipt]:
    sid, status = form.get("CallSid"), form.get("CallStatus")
    if not sid or not status:
        raise ValidationFailed("a call status callback needs CallSid and CallStatus")
    mapped = _CALL_STATUSES.get(status)
    if mapped is None:
        return []  # queued, initiated, ringing, in-progress: the call is not over yet
    return [
        InboundReceipt(
            provider=NAME,
            status=mapped,
            provider_message_id=sid,
            error=None if mapped is DeliveryStatus.DELIVERED else f"twilio call {status}",
        )
    ]
