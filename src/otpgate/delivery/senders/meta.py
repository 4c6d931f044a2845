"""Meta's WhatsApp Cloud API: an authentication template to `/{version}/{phone number id}/
messages` with a Bearer token; its webhooks (message statuses) signed with the app secret in
X-Hub-Signature-256, and the GET handshake that subscribes them (`hub.verify_token`)."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

import httpx

from otpgate.delivery.protocol import (
    InboundReceipt,
    OutgoingWhatsApp,
    PermanentSendError,
    SendReceipt,
    TransientSendError,
)
from otpgate.delivery.senders.whatsapp_template import authentication_template
from otpgate.domain.errors import Forbidden, ValidationFailed
from otpgate.domain.verification import DeliveryStatus
from otpgate.service.ports import ReceiptRequest

NAME = "meta"
RECEIPT_PATH = "/v1/receipts/meta"
# Graph API error codes about Meta, our app or our account, not the message: throttling
# (4, 80007, 130429, 131048, 131056), outages (1, 2, 131000, 131016, 131057), the token or
# its permissions (0, 10, 190, 200) and the account (131031 locked, 131042 payment, 368
# blocked for a while). Another try, or another provider, may pass; any other 4xx is about
# the message (131026 undeliverable, 131030 not an allowed recipient, 132001 no such
# template in that language, ...) and is final.
TRANSIENT_ERRORS = frozenset(
    {0, 1, 2, 4, 10, 190, 200, 368, 80007, 130429, 131000, 131016, 131031, 131042}
    | {131048, 131056, 131057}
)
_STATUSES = {
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.DELIVERED,  # a read receipt may come without `delivered` first
    "failed": DeliveryStatus.UNDELIVERED,
}


def hub_signature(app_secret: str, body: bytes) -> str:
    """X-Hub-Signature-256: `sha256=` and the hex HMAC-SHA256 of the raw body, keyed with
    the app secret."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class MetaConfig:
    access_token: str
    phone_number_id: str
    template: str  # an approved authentication template, in every language it is sent in
    base_url: str
    api_version: str
    timeout_seconds: float = 10.0


class MetaWhatsAppSender:
    name = NAME

    def __init__(self, config: MetaConfig) -> None:
        self._config = config
        self._client: httpx.AsyncClient | None = None

    async def send_whatsapp(self, message: OutgoingWhatsApp) -> SendReceipt:
        config = self._config
        url = (
            f"{config.base_url.rstrip('/')}/{config.api_version}/{config.phone_number_id}/messages"
        )
        document = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": message.to.lstrip("+"),
            "type": "template",
            "template": authentication_template(config.template, message.language, message.code),
            # echoed in every status webhook of this message
            "biz_opaque_callback_data": message.message_id,
        }
        try:
            answer = await self._http().post(url, json=document)
        except httpx.TimeoutException as exc:
            raise TransientSendError(f"timeout ({type(exc).__name__})") from None
        except httpx.HTTPError as exc:
            raise TransientSendError(f"connection failed ({type(exc).__name__})") from None
        if answer.status_code == 200:
            wamid = _message_id(answer)
            if wamid is None:
                raise TransientSendError("meta answered without a message id")
            return SendReceipt(provider_message_id=wamid)
        raise _refusal(answer)

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                headers={"Authorization": f"Bearer {self._config.access_token}"},
                timeout=self._config.timeout_seconds,
            )
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def _message_id(answer: httpx.Response) -> str | None:
    try:
        found = answer.json()["messages"][0]["id"]
    except (ValueError, KeyError, IndexError, TypeError):
        return None
    return found if isinstance(found, str) else None


def _refusal(answer: httpx.Response) -> Exception:
    """The Graph error's code decides; its message and details can name the number."""
    try:
        code = answer.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        code = None
    status = answer.status_code
    error = f"meta error {code} (HTTP {status})"
    if code in TRANSIENT_ERRORS or status in (401, 403, 408, 429) or status >= 500:
        return TransientSendError(error)
    if 400 <= status < 500:
        return PermanentSendError(error)
    return TransientSendError(error)


class MetaReceiptReader:
    name = NAME

    def __init__(self, app_secret: str, verify_token: str | None) -> None:
        self._app_secret = app_secret
        self._verify_token = verify_token

    def challenge(self, request: ReceiptRequest) -> str | None:
        """The subscription handshake: the challenge to echo when the verify token is right."""
        if request.query.get("hub.mode") != "subscribe":
            return None
        given = request.query.get("hub.verify_token", "")
        if self._verify_token is None or not hmac.compare_digest(
            given.encode(), self._verify_token.encode()
        ):
            raise Forbidden("the hub.verify_token does not match")
        return request.query.get("hub.challenge", "")

    def read(self, request: ReceiptRequest) -> list[InboundReceipt]:
        given = request.headers.get("x-hub-signature-256", "")
        expected = hub_signature(self._app_secret, request.body)
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise Forbidden("the X-Hub-Signature-256 does not match")
        if not isinstance(request.json, dict) or not isinstance(request.json.get("entry"), list):
            raise ValidationFailed("a WhatsApp webhook is a JSON object with its entry list")
        return [
            receipt
            for entry in request.json["entry"]
            for change in _list(entry, "changes")
            for status in _list(change.get("value"), "statuses")
            if (receipt := _receipt(status)) is not None
        ]


def _list(document: Any, name: str) -> list[Any]:
    found = document.get(name) if isinstance(document, dict) else None
    return [item for item in found if isinstance(item, dict)] if isinstance(found, list) else []


def _receipt(status: dict[str, Any]) -> InboundReceipt | None:
    """One status of one message; inbound messages and other fields are none of ours."""
    wamid, word = status.get("id"), status.get("status")
    mapped = _STATUSES.get(word) if isinstance(word, str) else None
    if not isinstance(wamid, str) or mapped is None:
        return None
    ours = status.get("biz_opaque_callback_data")
    ours = ours if isinstance(ours, str) and ours else None
    error = None
    if mapped is DeliveryStatus.UNDELIVERED:
        codes = [error.get("code") for error in _list(status, "errors")]
        error = f"meta failed {codes[0]}" if codes else "meta failed"
    return InboundReceipt(
        provider=NAME,
        status=mapped,
        provider_message_id=None if ours else wamid,
        message_id=ours,
        error=error,
    )
