"""The one HTTP call a lookup makes, and how its failures become `LookupFailed`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from otpgate.service.lookups import LookupFailed


async def get_json(
    client: httpx.AsyncClient,
    provider: str,
    url: str,
    params: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The JSON object a provider answered with 200; anything else is a failure. Error texts
    are not kept: some providers repeat the number in them."""
    try:
        answer = await client.get(url, params=params)
    except httpx.TimeoutException as exc:
        raise LookupFailed(f"{provider}: timeout ({type(exc).__name__})") from None
    except httpx.HTTPError as exc:
        raise LookupFailed(f"{provider}: connection failed ({type(exc).__name__})") from None
    if answer.status_code != 200:
        raise LookupFailed(f"{provider}: HTTP {answer.status_code}")
    try:
        document = answer.json()
    except ValueError:
        raise LookupFailed(f"{provider}: the answer is not JSON") from None
    if not isinstance(document, dict):
        raise LookupFailed(f"{provider}: the answer is not a JSON object")
    return document


def text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
