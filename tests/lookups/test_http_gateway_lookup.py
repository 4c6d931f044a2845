"""The generic HTTP/HLR lookup gateway: a URL template with {to}, a JSON path per field and
two tables from the gateway's words to otpgate's, against a local HLR gateway."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from peers.hlr import API_KEY, FakeHlr
from support.native import NativeApi

from otpgate.config import ConfigError, Settings, load_settings
from otpgate.runtime import build_runtime


@pytest.fixture
def hlr() -> Iterator[FakeHlr]:
    peer = FakeHlr()
    peer.start()
    yield peer
    peer.stop()


def gateway_settings(url: str) -> dict[str, Any]:
    return {
        "lookup_provider": "http",
        "lookup_http_url": url + "/hlr/{to}",
        "lookup_http_headers": {"X-Api-Key": API_KEY},
        "lookup_http_line_type_path": "result.type",
        "lookup_http_reachable_path": "result.status",
        "lookup_http_carrier_path": "result.network.name",
        "lookup_http_mcc_path": "result.network.mcc",
        "lookup_http_mnc_path": "result.network.mnc",
        "lookup_http_reachable_map": {"DELIVERED": True},
    }


@pytest.fixture
def lookup_settings(hlr: FakeHlr) -> dict[str, Any]:
    return gateway_settings(hlr.url)


def test_each_field_is_read_at_its_path_and_mapped(
    api_with: Callable[..., NativeApi], hlr: FakeHlr
) -> None:
    body = api_with().lookup("+12015550123", network="true").json()

    assert (body["source"], body["line_type"], body["reachable"]) == ("network", "mobile", True)
    assert body["carrier"] == {
        "name": "Vodafone",
        "mobile_country_code": "234",
        "mobile_network_code": "15",
    }
    [asked] = hlr.seen
    assert asked.path == "/hlr/%2B12015550123"


@pytest.mark.parametrize(
    ("number", "line_type", "reachable"),
    [("+12015550124", "voip", None), ("+12015550126", "mobile", False)],
)
def test_the_gateways_words_become_otpgates(
    api_with: Callable[..., NativeApi], number: str, line_type: str, reachable: bool | None
) -> None:
    body = api_with().lookup(number, network="true").json()

    assert (body["line_type"], body["reachable"]) == (line_type, reachable)


def test_a_gateway_error_falls_back_to_the_numbering_plan(
    api_with: Callable[..., NativeApi],
) -> None:
    body = api_with().lookup("+12015550500", network="true").json()

    assert (body["source"], body["line_type"]) == ("numbering_plan", "landline_or_mobile")


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"lookup_http_url": "http://hlr.example/lookup"}, "OTPGATE_LOOKUP_HTTP_URL"),
        ({"lookup_http_url": None}, "OTPGATE_LOOKUP_HTTP_URL"),
        (
            {"lookup_http_line_type_path": None, "lookup_http_reachable_path": None},
            "OTPGATE_LOOKUP_HTTP_LINE_TYPE_PATH",
        ),
        ({"lookup_http_line_type_map": {"MOBILE": "cell"}}, "OTPGATE_LOOKUP_HTTP_LINE_TYPE_MAP"),
        ({"lookup_provider": "twilio", "twilio_account_sid": None}, "OTPGATE_TWILIO_ACCOUNT_SID"),
        ({"lookup_provider": "vonage", "vonage_api_key": None}, "OTPGATE_VONAGE_API_KEY"),
    ],
)
def test_a_bad_lookup_provider_setting_stops_the_start_naming_it(
    settings: Settings, changes: dict[str, Any], named: str
) -> None:
    broken = settings.model_copy(update=changes)

    with pytest.raises(ConfigError, match=f"^{named}: "):
        build_runtime(broken)


def test_twilio_lookup_fields_are_those_twilio_offers() -> None:
    with pytest.raises(ConfigError, match=r"^OTPGATE_TWILIO_LOOKUP_FIELDS: "):
        load_settings(twilio_lookup_fields="line_type_intelligence,caller_name")
