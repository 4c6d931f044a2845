"""Twilio Lookup v2: `GET /v2/PhoneNumbers/{number}?Fields=line_type_intelligence[,line_status,
sms_pumping_risk]`, Basic auth with the account SID and auth token."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx

from otpgate.delivery.lookups.calls import get_json, text
from otpgate.domain.lookups import Carrier, NetworkAnswer
from otpgate.domain.phone import LineType, PhoneNumber

NAME = "twilio"
FIELDS = ("line_type_intelligence", "line_status", "sms_pumping_risk")
# line_type_intelligence.type, as Twilio documents its values
LINE_TYPES = {
    "mobile": LineType.MOBILE,
    "landline": LineType.LANDLINE,
    "fixedVoip": LineType.VOIP,
    "nonFixedVoip": LineType.VOIP,
    "personal": LineType.PERSONAL,
    "tollFree": LineType.TOLL_FREE,
    "premium": LineType.PREMIUM_RATE,
    "sharedCost": LineType.SHARED_COST,
    "uan": LineType.UAN,
    "voicemail": LineType.VOICEMAIL,
    "pager": LineType.PAGER,
}
# line_status.status; `unknown` and anything new say nothing
REACHABLE = {"active": True, "reachable": True, "inactive": False, "unreachable": False}
HIGH_RISK_CATEGORIES = frozenset({"high"})


@dataclass(frozen=True)
class TwilioLookupConfig:
    account_sid: str
    auth_token: str
    base_url: str
    fields: tuple[str, ...] = ("line_type_intelligence",)


class TwilioLookup:
    name = NAME

    def __init__(self, config: TwilioLookupConfig) -> None:
        self._config = config
        self._client: httpx.AsyncClient | None = None

    async def look_up(self, number: PhoneNumber, now: datetime) -> NetworkAnswer:
        url = f"{self._config.base_url.rstrip('/')}/v2/PhoneNumbers/{quote(number.e164)}"
        document = await get_json(
            self._http(), NAME, url, {"Fields": ",".join(self._config.fields)}
        )
        return answer_of(number.e164, document, now)

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                auth=(self._config.account_sid, self._config.auth_token)
            )
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def answer_of(e164: str, document: dict[str, Any], now: datetime) -> NetworkAnswer:
    """Twilio's LookupResponse in otpgate's words; a package with an error_code says nothing."""
    intelligence = _package(document, "line_type_intelligence")
    status = _package(document, "line_status")
    risk = _package(document, "sms_pumping_risk")
    reachable = REACHABLE.get(str(status.get("status")))
    if document.get("valid") is False:
        reachable = False  # not in a range a carrier can assign
    carrier = None
    if intelligence:
        carrier = Carrier(
            name=text(intelligence.get("carrier_name")),
            mobile_country_code=text(intelligence.get("mobile_country_code")),
            mobile_network_code=text(intelligence.get("mobile_network_code")),
        )
    return NetworkAnswer(
        number=e164,
        provider=NAME,
        line_type=LINE_TYPES.get(str(intelligence.get("type")), LineType.UNKNOWN),
        reachable=reachable,
        carrier=carrier,
        checked_at=now,
        high_risk=risk.get("carrier_risk_category") in HIGH_RISK_CATEGORIES
        or risk.get("number_blocked") is True,
    )


def _package(document: dict[str, Any], name: str) -> dict[str, Any]:
    package = document.get(name)
    if not isinstance(package, dict) or package.get("error_code") is not None:
        return {}
    return package
