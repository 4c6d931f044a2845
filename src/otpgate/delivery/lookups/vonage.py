"""Vonage Number Insight, standard or advanced (synchronous): `GET /ni/{level}/json?number=`,
Basic auth with the API key and secret."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from otpgate.delivery.lookups.calls import get_json, text
from otpgate.domain.lookups import Carrier, NetworkAnswer
from otpgate.domain.phone import LineType, PhoneNumber
from otpgate.service.lookups import LookupFailed

NAME = "vonage"
LEVELS = ("standard", "advanced")
# 0 success; 43, 44, 45: the live (HLR) part was not returned, the standard data was
ANSWERED = frozenset({0, 43, 44, 45})
# current_carrier.network_type
LINE_TYPES = {
    "mobile": LineType.MOBILE,
    "landline": LineType.LANDLINE,
    "landline_premium": LineType.PREMIUM_RATE,
    "landline_tollfree": LineType.TOLL_FREE,
    "virtual": LineType.VOIP,
    "pager": LineType.PAGER,
}
# advanced's `reachable`; `unknown` says nothing
REACHABLE = {
    "reachable": True,
    "undeliverable": False,
    "absent": False,
    "bad_number": False,
    "blacklisted": False,
}
PORTED = {"ported": True, "assumed_ported": True, "not_ported": False, "assumed_not_ported": False}
ROAMING = {"roaming": True, "not_roaming": False}


@dataclass(frozen=True)
class VonageInsightConfig:
    api_key: str
    api_secret: str
    base_url: str
    level: str = "standard"


class VonageInsight:
    name = NAME

    def __init__(self, config: VonageInsightConfig) -> None:
        self._config = config
        self._client: httpx.AsyncClient | None = None

    async def look_up(self, number: PhoneNumber, now: datetime) -> NetworkAnswer:
        config = self._config
        url = f"{config.base_url.rstrip('/')}/ni/{config.level}/json"
        document = await get_json(self._http(), NAME, url, {"number": number.e164.lstrip("+")})
        status = document.get("status")
        if status not in ANSWERED:
            raise LookupFailed(f"{NAME}: status {status}")
        return answer_of(number.e164, document, now)

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(auth=(self._config.api_key, self._config.api_secret))
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def answer_of(e164: str, document: dict[str, Any], now: datetime) -> NetworkAnswer:
    carrier_data = document.get("current_carrier")
    carrier_data = carrier_data if isinstance(carrier_data, dict) else {}
    network_code = text(carrier_data.get("network_code"))
    carrier = None
    if carrier_data:
        carrier = Carrier(
            name=text(carrier_data.get("name")),
            # an MCC is 3 digits; the MNC is the rest
            mobile_country_code=network_code[:3] if network_code else None,
            mobile_network_code=network_code[3:] if network_code else None,
        )
    reachable = REACHABLE.get(str(document.get("reachable")))
    if document.get("valid_number") == "not_valid":
        reachable = False
    roaming = document.get("roaming")
    roaming_status = roaming.get("status") if isinstance(roaming, dict) else roaming
    return NetworkAnswer(
        number=e164,
        provider=NAME,
        line_type=LINE_TYPES.get(str(carrier_data.get("network_type")), LineType.UNKNOWN),
        reachable=reachable,
        carrier=carrier,
        checked_at=now,
        high_risk=document.get("reachable") == "blacklisted",
        ported=PORTED.get(str(document.get("ported"))),
        roaming=ROAMING.get(str(roaming_status)),
    )
