"""A generic HTTP/HLR gateway: `GET` a URL template with `{to}`, and read each field of the
answer at a JSON path of its own, mapping the gateway's words through two tables."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import quote

import httpx

from otpgate.delivery.lookups.calls import get_json, text
from otpgate.delivery.senders.http import dig
from otpgate.domain.lookups import Carrier, NetworkAnswer
from otpgate.domain.phone import LineType, PhoneNumber

NAME = "http"
# the gateway's word for a line type -> otpgate's; otpgate's own words are always understood
DEFAULT_LINE_TYPES: Mapping[str, str] = {"fixed": "landline", "virtual": "voip"}
# the gateway's word for the number's state -> reachable; booleans are taken as they are
DEFAULT_REACHABLE: Mapping[str, bool] = {
    "on": True,
    "active": True,
    "reachable": True,
    "off": False,
    "absent": False,
    "inactive": False,
    "unreachable": False,
    "dead": False,
}


@dataclass(frozen=True)
class HttpLookupConfig:
    url: str  # a template with {to}: the number in E.164, URL-encoded
    headers: Mapping[str, str] = field(default_factory=dict)
    line_type_path: str | None = None
    reachable_path: str | None = None
    carrier_path: str | None = None
    mcc_path: str | None = None
    mnc_path: str | None = None
    line_types: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_LINE_TYPES))
    reachable: Mapping[str, bool] = field(default_factory=lambda: dict(DEFAULT_REACHABLE))


class HttpLookup:
    name = NAME

    def __init__(self, config: HttpLookupConfig) -> None:
        self._config = config
        self._client: httpx.AsyncClient | None = None

    async def look_up(self, number: PhoneNumber, now: datetime) -> NetworkAnswer:
        url = self._config.url.replace("{to}", quote(number.e164, safe=""))
        document = await get_json(self._http(), NAME, url)
        return self.answer_of(number.e164, document, now)

    def answer_of(self, e164: str, document: object, now: datetime) -> NetworkAnswer:
        config = self._config
        word = _read(document, config.line_type_path)
        line_type = LineType.UNKNOWN
        if isinstance(word, str):
            mapped = config.line_types.get(word.lower(), word.lower())
            line_type = LineType(mapped) if mapped in LineType._value2member_map_ else line_type
        state = _read(document, config.reachable_path)
        reachable = state if isinstance(state, bool) else None
        if isinstance(state, str):
            reachable = config.reachable.get(state.lower())
        names = [_read(document, path) for path in (config.mcc_path, config.mnc_path)]
        carrier_name = text(_read(document, config.carrier_path))
        carrier = None
        if carrier_name or any(names):
            carrier = Carrier(carrier_name, *(None if n is None else str(n) for n in names))
        return NetworkAnswer(
            number=e164,
            provider=NAME,
            line_type=line_type,
            reachable=reachable,
            carrier=carrier,
            checked_at=now,
        )

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(headers=dict(self._config.headers))
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def _read(document: object, path: str | None) -> object:
    return None if path is None else dig(document, path)
