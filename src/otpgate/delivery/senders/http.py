"""A generic HTTP SMS gateway: the request is a template, the answer's status decides.

Error strings name an HTTP status or an exception class, never a URL or a body: with a GET
template the URL itself carries the text, and the text carries the code.

The client is aiohttp, not httpx as for the other providers: this is the provider that sends
as fast as a gateway takes messages, and a message cost about a tenth of the CPU through aiohttp
(docs/performance.md). It trusts what httpx trusted (httpx's certificate set, the proxy from
the environment), sends the URL as the template filled it, and follows no redirect.
"""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, quote_plus

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

if TYPE_CHECKING:
    import aiohttp

NAME = "http"
RECEIPT_PATH = "/v1/receipts/http"
DEFAULT_BODIES = {
    "json": '{"to": "{to}", "from": "{sender}", "text": "{body}", "reference": "{message_id}"}',
    "form": "to={to}&from={sender}&text={body}&reference={message_id}",
}
_PLACEHOLDER = re.compile(r"\{(to|to_digits|sender|body|message_id|receipt_url)\}")
_RECEIPT_WORDS = {
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "undelivered": DeliveryStatus.UNDELIVERED,
}


def fill(template: str, values: Mapping[str, str], escape: Callable[[str], str]) -> str:
    """Replace each placeholder once, literally: a value that holds `{to}` stays as it is."""
    return _PLACEHOLDER.sub(lambda found: escape(values[found.group(1)]), template)


def json_escape(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)[1:-1]


def url_escape(value: str) -> str:
    return quote(value, safe="")


def parse_accepted(spec: str) -> Callable[[int], bool]:
    """`2xx`, `200,202` or `200-299` (parts joined by commas) to a test on a status."""
    ranges: list[tuple[int, int]] = []
    for part in (piece.strip().lower() for piece in spec.split(",") if piece.strip()):
        if re.fullmatch(r"[1-5]xx", part):
            base = int(part[0]) * 100
            ranges.append((base, base + 99))
        elif re.fullmatch(r"\d{3}-\d{3}", part):
            low, high = part.split("-")
            ranges.append((int(low), int(high)))
        elif re.fullmatch(r"\d{3}", part):
            ranges.append((int(part), int(part)))
        else:
            raise ValueError(f"{part!r} is not a status, a range like 200-299 or a class like 2xx")
    if not ranges:
        raise ValueError("no status given")
    return lambda status: any(low <= status <= high for low, high in ranges)


def dig(document: Any, path: str) -> Any:
    """Follow a dotted path (`messages.0.id`) through dicts and lists; None when it breaks."""
    current = document
    for step in path.split("."):
        if isinstance(current, Mapping):
            current = current.get(step)
        elif isinstance(current, list) and step.isdigit() and int(step) < len(current):
            current = current[int(step)]
        else:
            return None
    return current


def classify_status(status: int) -> type[Exception]:
    """Which failure a refused answer is: only a 4xx about the message itself is permanent.
    401/403 say our credentials are wrong, which another provider may not mind."""
    if status in (401, 403, 408, 409, 425, 429) or status >= 500 or status < 400:
        return TransientSendError
    return PermanentSendError


@dataclass
class HttpGatewayConfig:
    url: str
    method: str = "POST"
    body: str | None = None
    body_format: str = "json"
    headers: Mapping[str, str] = field(default_factory=dict)
    accepted: Callable[[int], bool] = field(default_factory=lambda: parse_accepted("2xx"))
    message_id_path: str | None = None
    receipt_url: str = ""
    timeout_seconds: float = 10.0


class HttpGatewaySender:
    name = NAME

    def __init__(self, config: HttpGatewayConfig) -> None:
        self._config = config
        self._client: aiohttp.ClientSession | None = None

    async def send(self, sms: OutgoingSms) -> SendReceipt:
        config = self._config
        values = {
            "to": sms.to,
            "to_digits": sms.to.lstrip("+"),
            "sender": sms.sender or "",
            "body": sms.body,
            "message_id": sms.message_id,
            "receipt_url": config.receipt_url.replace("{message_id}", sms.message_id),
        }
        url = fill(config.url, values, url_escape)
        content: bytes | None = None
        headers = dict(config.headers)
        if config.method != "GET":
            template = config.body or DEFAULT_BODIES[config.body_format]
            if config.body_format == "json":
                content = fill(template, values, json_escape).encode()
                headers.setdefault("Content-Type", "application/json")
            else:
                content = fill(template, values, quote_plus).encode()
                headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        import aiohttp
        from yarl import URL

        try:
            async with self._http().request(
                config.method,
                URL(url, encoded=True),  # as filled: the template's escapes are the gateway's
                data=content,
                headers=headers,
                allow_redirects=False,
            ) as answer:
                status, document = answer.status, await answer.read()
        except TimeoutError as exc:
            raise TransientSendError(f"timeout ({type(exc).__name__})") from None
        except aiohttp.ClientError as exc:
            raise TransientSendError(f"connection failed ({type(exc).__name__})") from None
        if not config.accepted(status):
            raise classify_status(status)(f"HTTP {status}")
        return SendReceipt(provider_message_id=self._provider_id(document, sms))

    def _provider_id(self, document: bytes, sms: OutgoingSms) -> str | None:
        path = self._config.message_id_path
        if path is None:
            return sms.message_id  # the template carried ours; receipts name it
        try:
            found = dig(json.loads(document), path)
        except ValueError:
            return None
        return None if found is None or isinstance(found, dict | list) else str(found)

    def _http(self) -> aiohttp.ClientSession:
        # aiohttp and yarl are imported at the first send (about 6 MB): a process with another
        # provider never loads them
        import aiohttp

        if self._client is None:
            seconds = self._config.timeout_seconds
            self._client = aiohttp.ClientSession(
                # each step bounded, as httpx bounded them: a connection, then every read
                timeout=aiohttp.ClientTimeout(total=None, connect=seconds, sock_read=seconds),
                connector=aiohttp.TCPConnector(ssl=httpx.create_ssl_context()),
                trust_env=True,
            )
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None


class HttpReceiptReader:
    """Receipts as a gateway calls back (Kannel's `dlr-url` is the model): one id and one
    status per call, in the query, a form or a JSON body, mapped by a configurable table."""

    name = NAME

    def __init__(
        self,
        status_map: Mapping[str, str],
        *,
        id_field: str = "id",
        status_field: str = "status",
        token: str | None = None,
    ) -> None:
        self._status_map = {key: _RECEIPT_WORDS[word] for key, word in status_map.items()}
        self._id_field = id_field
        self._status_field = status_field
        self._token = token

    def read(self, request: ReceiptRequest) -> list[InboundReceipt]:
        if self._token is not None:
            given = request.query.get("token") or request.headers.get("x-otpgate-receipt-token")
            if given is None or not hmac.compare_digest(given.encode(), self._token.encode()):
                raise Forbidden("the receipt token is missing or wrong")
        provider_id = self._field(request, self._id_field)
        status = self._field(request, self._status_field)
        if provider_id is None or status is None:
            raise ValidationFailed(f"a receipt needs {self._id_field} and {self._status_field}")
        mapped = self._status_map.get(status)
        if mapped is None:
            return []  # a state we are not told to follow (say, "buffered")
        return [
            InboundReceipt(
                provider=NAME,
                status=mapped,
                provider_message_id=provider_id,
                error=None if mapped is DeliveryStatus.DELIVERED else f"status {status}"[:40],
            )
        ]

    @staticmethod
    def _field(request: ReceiptRequest, name: str) -> str | None:
        for source in (request.query, request.form):
            if name in source:
                return str(source[name])
        if request.json is not None:
            found = dig(request.json, name)
            if found is not None and not isinstance(found, dict | list):
                return str(found)
        return None
