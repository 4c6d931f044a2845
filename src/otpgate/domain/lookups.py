"""Network lookups as data: what a provider said about a number, when a start asks it, and
how its answer resolves the numbering plan's line type (docs/lookups.md)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from otpgate.domain.phone import LineType, PhoneNumber


class NetworkLookupMode(StrEnum):
    NEVER = "never"
    WHEN_AMBIGUOUS = "when_ambiguous"
    ALWAYS = "always"


class LookupFailure(StrEnum):
    ALLOW = "allow"  # a failed lookup falls back to the numbering plan
    REFUSE = "refuse"  # a failed lookup refuses the start (503)


class LookupSource(StrEnum):
    NUMBERING_PLAN = "numbering_plan"
    NETWORK = "network"
    CACHE = "cache"


# line types the numbering plan cannot give: only the network knows a number is one
PLAN_CANNOT_TELL = frozenset({LineType.VOIP})
AMBIGUOUS = frozenset({LineType.LANDLINE_OR_MOBILE, LineType.UNKNOWN})


@dataclass(frozen=True)
class Carrier:
    name: str | None
    mobile_country_code: str | None
    mobile_network_code: str | None


@dataclass(frozen=True)
class NetworkAnswer:
    """One provider's answer, in otpgate's words; None where the provider did not say."""

    number: str  # E.164
    provider: str
    line_type: LineType  # UNKNOWN: the provider could not tell
    reachable: bool | None
    carrier: Carrier | None
    checked_at: datetime
    # the provider's own pumping or fraud signal (Twilio's SMS pumping risk, Vonage's
    # blacklisted): the pumping guard counts it when the app lets it
    high_risk: bool = False
    ported: bool | None = None
    roaming: bool | None = None


@dataclass(frozen=True)
class LookupAnswer:
    """What a lookup answers: the number as resolved, and where the answer came from."""

    number: PhoneNumber
    source: LookupSource
    network: NetworkAnswer | None  # None: the numbering plan's answer alone

    @property
    def reachable(self) -> bool | None:
        return None if self.network is None else self.network.reachable

    @property
    def suspicious(self) -> bool:
        """The network calls the number unreachable or high-risk (a pumping signal)."""
        return self.network is not None and (
            self.network.high_risk or self.network.reachable is False
        )


def needs_network(
    mode: NetworkLookupMode, number: PhoneNumber, blocked: tuple[LineType, ...]
) -> bool:
    """Whether a start asks the network: always, or when the plan's answer is not enough to
    apply the app's blocked line types (docs/lookups.md, "When a lookup runs")."""
    if mode is NetworkLookupMode.NEVER or not number.valid:
        return False
    if mode is NetworkLookupMode.ALWAYS:
        return True
    return number.line_type in AMBIGUOUS or bool(PLAN_CANNOT_TELL.intersection(blocked))


def resolved(number: PhoneNumber, network: NetworkAnswer | None) -> PhoneNumber:
    """The number with the network's line type, where the network could tell one (an answer
    about another number changes nothing)."""
    if network is None or network.number != number.e164 or network.line_type is LineType.UNKNOWN:
        return number
    return dataclasses.replace(number, line_type=network.line_type)
