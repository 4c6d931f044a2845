"""When a start asks the network, and how each provider's words become otpgate's."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from otpgate.delivery.lookups import twilio, vonage
from otpgate.delivery.lookups.http import HttpLookup, HttpLookupConfig
from otpgate.domain.lookups import NetworkLookupMode, needs_network
from otpgate.domain.phone import LineType, lookup_number

NOW = datetime(2026, 1, 1, tzinfo=UTC)
UK_MOBILE = lookup_number("+447123123456")
US_NUMBER = lookup_number("+12015550123")
UK_UNASSIGNED = lookup_number("+447700900123")


@pytest.mark.parametrize(
    ("mode", "number", "blocked", "asks"),
    [
        (NetworkLookupMode.NEVER, US_NUMBER, (LineType.VOIP,), False),
        (NetworkLookupMode.WHEN_AMBIGUOUS, US_NUMBER, (), True),
        (NetworkLookupMode.WHEN_AMBIGUOUS, UK_MOBILE, (), False),
        (NetworkLookupMode.WHEN_AMBIGUOUS, UK_MOBILE, (LineType.LANDLINE,), False),
        (NetworkLookupMode.WHEN_AMBIGUOUS, UK_MOBILE, (LineType.VOIP,), True),
        (NetworkLookupMode.ALWAYS, UK_MOBILE, (), True),
        (NetworkLookupMode.ALWAYS, UK_UNASSIGNED, (), False),  # no range, nothing to ask
    ],
)
def test_when_the_network_is_asked(
    mode: NetworkLookupMode, number: object, blocked: tuple[LineType, ...], asks: bool
) -> None:
    assert needs_network(mode, number, blocked) is asks  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("word", "line_type"),
    [
        ("mobile", LineType.MOBILE),
        ("landline", LineType.LANDLINE),
        ("fixedVoip", LineType.VOIP),
        ("nonFixedVoip", LineType.VOIP),
        ("tollFree", LineType.TOLL_FREE),
        ("premium", LineType.PREMIUM_RATE),
        ("somethingNew", LineType.UNKNOWN),
    ],
)
def test_twilio_line_types(word: str, line_type: LineType) -> None:
    document = {"line_type_intelligence": {"type": word, "error_code": None}}
    assert twilio.answer_of("+1", document, NOW).line_type is line_type


def test_twilio_a_package_with_an_error_code_says_nothing() -> None:
    document = {"line_type_intelligence": {"type": "mobile", "error_code": 60600}}
    answer = twilio.answer_of("+1", document, NOW)
    assert (answer.line_type, answer.carrier) == (LineType.UNKNOWN, None)


@pytest.mark.parametrize(
    ("risk", "high"),
    [
        ({"carrier_risk_category": "high", "number_blocked": False}, True),
        ({"carrier_risk_category": "low", "number_blocked": True}, True),
        ({"carrier_risk_category": "moderate", "number_blocked": False}, False),
    ],
)
def test_twilio_sms_pumping_risk(risk: dict[str, object], high: bool) -> None:
    document = {"sms_pumping_risk": {**risk, "error_code": None}}
    assert twilio.answer_of("+1", document, NOW).high_risk is high


@pytest.mark.parametrize(
    ("network_type", "line_type"),
    [
        ("mobile", LineType.MOBILE),
        ("landline", LineType.LANDLINE),
        ("virtual", LineType.VOIP),
        ("landline_tollfree", LineType.TOLL_FREE),
        ("landline_premium", LineType.PREMIUM_RATE),
        ("unknown", LineType.UNKNOWN),
    ],
)
def test_vonage_network_types(network_type: str, line_type: LineType) -> None:
    document = {"current_carrier": {"network_type": network_type, "network_code": "23410"}}
    assert vonage.answer_of("+44", document, NOW).line_type is line_type


@pytest.mark.parametrize(
    ("fields", "reachable", "high_risk"),
    [
        ({"reachable": "reachable"}, True, False),
        ({"reachable": "absent"}, False, False),
        ({"reachable": "blacklisted"}, False, True),
        ({"reachable": "unknown"}, None, False),
        ({"reachable": "reachable", "valid_number": "not_valid"}, False, False),
        ({}, None, False),  # standard level: no reachability
    ],
)
def test_vonage_reachability(
    fields: dict[str, str], reachable: bool | None, high_risk: bool
) -> None:
    answer = vonage.answer_of("+44", fields, NOW)
    assert (answer.reachable, answer.high_risk) == (reachable, high_risk)


def test_vonage_ported_and_roaming() -> None:
    answer = vonage.answer_of(
        "+44", {"ported": "assumed_ported", "roaming": {"status": "roaming"}}, NOW
    )
    assert (answer.ported, answer.roaming) == (True, True)


def test_the_gateways_unknown_words_say_nothing() -> None:
    gateway = HttpLookup(
        HttpLookupConfig(url="http://x/{to}", line_type_path="t", reachable_path="s")
    )
    answer = gateway.answer_of("+44", {"t": "hologram", "s": "maybe"}, NOW)
    assert (answer.line_type, answer.reachable) == (LineType.UNKNOWN, None)
