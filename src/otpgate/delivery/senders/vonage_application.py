"""A Vonage application's credentials: requests to the Voice and Messages APIs carry a JWT
signed (RS256) with the application's private key; their webhooks carry one signed (HS256)
with the account's signature secret, whose `payload_hash` is the SHA-256 of the body."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from otpgate.delivery.protocol import PermanentSendError, TransientSendError
from otpgate.domain.errors import Forbidden
from otpgate.service.ports import ReceiptRequest

TOKEN_LIFETIME_SECONDS = 15 * 60
# a token is signed afresh well before it expires: an RS256 signature costs about 0.5 ms of
# CPU, reusing one nothing (docs/providers/vonage-call.md)
TOKEN_REUSE_SECONDS = 5 * 60
WEBHOOK_MAX_AGE_SECONDS = 300


def read_private_key(path: Path) -> rsa.RSAPrivateKey:
    """The application's private key file, loaded once (loading checks the key, which costs
    some 40 ms of CPU, far more than a signature); ValueError says what is wrong."""
    try:
        pem = path.read_bytes()
    except OSError as exc:
        raise ValueError(f"cannot be read ({exc.strerror})") from None
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError):
        raise ValueError("is not a PEM private key without a passphrase") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("is not an RSA key (Vonage signs with RS256)")
    return key


class ApplicationToken:
    """The Bearer token of a Vonage application, reused while it is young."""

    def __init__(
        self,
        application_id: str,
        private_key: rsa.RSAPrivateKey,
        *,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._application_id = application_id
        self._private_key = private_key
        self._now = now
        self._token = ""
        self._signed_at = -TOKEN_REUSE_SECONDS

    def bearer(self) -> str:
        now = int(self._now())
        if now - self._signed_at >= TOKEN_REUSE_SECONDS:
            claims = {
                "application_id": self._application_id,
                "iat": now,
                "exp": now + TOKEN_LIFETIME_SECONDS,
                "jti": str(uuid.uuid4()),
            }
            self._token = jwt.encode(claims, self._private_key, algorithm="RS256")
            self._signed_at = now
        return self._token


@dataclass(frozen=True)
class VonageApplicationConfig:
    application_id: str
    private_key: rsa.RSAPrivateKey
    base_url: str  # https://api.nexmo.com
    timeout_seconds: float = 10.0


class VonageApplicationClient:
    """POSTs JSON to the Voice or Messages API as the application; errors are RFC 7807
    problems whose HTTP status decides (their detail can name the number, so it is not kept)."""

    def __init__(self, config: VonageApplicationConfig) -> None:
        self._config = config
        self._token = ApplicationToken(config.application_id, config.private_key)
        self._client: httpx.AsyncClient | None = None

    async def post(self, path: str, document: dict[str, Any], accepted: int) -> dict[str, Any]:
        url = self._config.base_url.rstrip("/") + path
        headers = {"Authorization": f"Bearer {self._token.bearer()}"}
        try:
            answer = await self._http().post(url, json=document, headers=headers)
        except httpx.TimeoutException as exc:
            raise TransientSendError(f"timeout ({type(exc).__name__})") from None
        except httpx.HTTPError as exc:
            raise TransientSendError(f"connection failed ({type(exc).__name__})") from None
        if answer.status_code != accepted:
            raise _refusal(answer)
        try:
            found = answer.json()
        except ValueError:
            found = None
        if not isinstance(found, dict):
            raise TransientSendError("vonage answered without a JSON object")
        return found

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self._config.timeout_seconds)
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def _refusal(answer: httpx.Response) -> Exception:
    """400 and 422 are about the request (an invalid number, a template that does not fit);
    401, 402 (low balance), 403, 429 and 5xx about the account or Vonage."""
    try:
        kind = str(answer.json().get("type", "")).rsplit("/", 1)[-1][:40]
    except (ValueError, AttributeError):
        kind = ""
    error = f"vonage {kind or 'error'} (HTTP {answer.status_code})"
    if answer.status_code in (400, 404, 410, 413, 415, 422):
        return PermanentSendError(error)
    return TransientSendError(error)


def verify_signed_webhook(
    request: ReceiptRequest, signature_secret: str | None, now: float
) -> dict[str, Any]:
    """The claims of the webhook's `Authorization: Bearer` JWT, once its HS256 signature,
    its age and its `payload_hash` check out; `Forbidden` otherwise."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if signature_secret is None or scheme.lower() != "bearer" or not token:
        raise Forbidden("a Vonage webhook needs its signed JWT")
    try:
        claims: dict[str, Any] = jwt.decode(
            token, signature_secret, algorithms=["HS256"], options={"require": ["iat"]}
        )
    except jwt.PyJWTError:
        raise Forbidden("the webhook's JWT does not verify") from None
    if abs(now - float(claims["iat"])) > WEBHOOK_MAX_AGE_SECONDS:
        raise Forbidden("the webhook's JWT is too old")
    # the token signs the hash of the body: without that check a token could carry any body
    given = str(claims.get("payload_hash", "")).lower().encode()
    if not any(hmac.compare_digest(given, hashed.encode()) for hashed in _payload_hashes(request)):
        raise Forbidden("the webhook's body does not match its payload_hash")
    return claims


def _payload_hashes(request: ReceiptRequest) -> list[str]:
    """The raw body's SHA-256, and the one Vonage's Voice guide describes: of the JSON
    document written again without whitespace, its keys in the order they came."""
    hashes = [hashlib.sha256(request.body).hexdigest()]
    if request.json is not None:
        compact = json.dumps(request.json, separators=(",", ":"), ensure_ascii=False)
        hashes.append(hashlib.sha256(compact.encode()).hexdigest())
    return hashes
