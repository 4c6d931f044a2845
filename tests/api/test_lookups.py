"""Number lookups: the same parsing and line types as verifications, and nothing is sent."""

from __future__ import annotations

import pytest
from support.native import NativeApi
from support.numbers import UK_MOBILE, UK_UNASSIGNED, US_LANDLINE_OR_MOBILE


def test_a_lookup_gives_number_validity_country_line_type_and_national_format(
    api: NativeApi,
) -> None:
    found = api.lookup(UK_MOBILE)
    assert found.status_code == 200
    assert found.json() == {
        "number": UK_MOBILE,
        "valid": True,
        "country": "GB",
        "line_type": "mobile",
        "national_format": "07123 123456",
        # no lookup provider is configured: the numbering plan's answer, as of now
        "source": "numbering_plan",
        "carrier": None,
        "reachable": None,
        "checked_at": "2026-01-01T12:00:00.000Z",
    }


@pytest.mark.parametrize("country", ["GB", "GBR", "gb"])
def test_a_national_number_is_looked_up_with_its_country(api: NativeApi, country: str) -> None:
    assert api.lookup("07123123456", country=country).json()["number"] == UK_MOBILE


def test_an_encoded_plus_and_spaces_are_accepted(api: NativeApi) -> None:
    found = api.http.get("/v1/lookups/%2B44%207123%20123456", headers=api.headers)
    assert found.json()["number"] == UK_MOBILE


def test_a_us_number_is_landline_or_mobile(api: NativeApi) -> None:
    found = api.lookup(US_LANDLINE_OR_MOBILE).json()
    assert (found["line_type"], found["country"], found["national_format"]) == (
        "landline_or_mobile",
        "US",
        "(201) 555-0123",
    )


def test_a_possible_but_unassigned_number_is_not_valid(api: NativeApi) -> None:
    found = api.lookup(UK_UNASSIGNED)
    assert found.status_code == 200
    assert (found.json()["valid"], found.json()["line_type"]) == (False, "unknown")


@pytest.mark.parametrize(
    ("number", "params", "field"),
    [
        ("+4412", {}, "number"),
        ("07123123456", {}, "number"),
        ("CALL-ME-NOW", {}, "number"),
        (UK_MOBILE, {"country": "XX"}, "country"),
        (UK_MOBILE, {"country": "GBRX"}, "country"),
    ],
)
def test_a_bad_lookup_is_a_400_naming_the_field(
    api: NativeApi, number: str, params: dict[str, str], field: str
) -> None:
    refused = api.lookup(number, **params)
    assert refused.status_code == 400
    assert refused.json()["field"] == field


def test_a_lookup_sends_nothing(api: NativeApi) -> None:
    api.lookup(UK_MOBILE)
    assert api.outbox().json()["messages"] == []
    assert api.list().json()["verifications"] == []


def test_a_lookup_needs_an_api_key(api: NativeApi) -> None:
    assert api.http.get(f"/v1/lookups/{UK_MOBILE}").status_code == 401
