"""Twilio Lookup v2 against Twilio's own OpenAPI description, served by Prism, which validates
each request (one that breaks the contract gets a 4xx, and the lookup falls back to the
numbering plan): each of the spec's own examples mapped onto otpgate's line types and
`reachable`."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from peers.prism import TWILIO_LOOKUP_SPEC, Prism, installed
from peers.prism_examples import ExampleChooser
from peers.twilio import ACCOUNT_SID, AUTH_TOKEN
from support.native import NativeApi

if not installed(TWILIO_LOOKUP_SPEC):
    if os.environ.get("CI"):
        raise RuntimeError("CI must have Prism and Twilio's Lookup v2 spec: run `make peers`")
    pytest.skip("Prism is not installed (make peers)", allow_module_level=True)

# the last four digits of a number -> the example of Twilio's spec that answers it
EXAMPLES = {
    "0124": "fetchLineTypeIntelligence",  # nonFixedVoip, with its carrier
    "0125": "fetchLineStatusActive",
    "0126": "fetchLineStatusInactive",
    "0127": "fetchSmsPumpingRisk",  # moderate risk
}


@pytest.fixture(scope="module")
def prism(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prism]:
    log = Path(tmp_path_factory.mktemp("prism")) / "prism.log"
    server = Prism(log, TWILIO_LOOKUP_SPEC, errors=False).start()
    yield server
    server.stop()


@pytest.fixture
def chooser(prism: Prism) -> Iterator[ExampleChooser]:
    peer = ExampleChooser(prism.url, EXAMPLES)
    peer.start()
    yield peer
    peer.stop()


@pytest.fixture
def lookup_settings(chooser: ExampleChooser) -> dict[str, Any]:
    return {
        "lookup_provider": "twilio",
        "twilio_account_sid": ACCOUNT_SID,
        "twilio_auth_token": AUTH_TOKEN,
        "twilio_lookup_base_url": chooser.url,
        "twilio_lookup_fields": "line_type_intelligence,line_status,sms_pumping_risk",
    }


def looked_up(api_with: Callable[..., NativeApi], number: str) -> dict[str, Any]:
    answer = api_with().lookup(number, network="true")
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_line_type_intelligence_gives_voip_and_the_carrier(
    api_with: Callable[..., NativeApi], chooser: ExampleChooser
) -> None:
    body = looked_up(api_with, "+12015550124")

    assert chooser.answers == [200]  # Prism found the request valid
    assert (body["source"], body["line_type"], body["reachable"]) == ("network", "voip", None)
    assert body["carrier"] == {
        "name": "Twilio - SMS/MMS-SVR",
        "mobile_country_code": "240",
        "mobile_network_code": "38",
    }


@pytest.mark.parametrize(("number", "reachable"), [("+12015550125", True), ("+12015550126", False)])
def test_line_status_gives_reachable(
    api_with: Callable[..., NativeApi], number: str, reachable: bool
) -> None:
    body = looked_up(api_with, number)

    assert (body["source"], body["reachable"]) == ("network", reachable)
    assert body["line_type"] == "landline_or_mobile"  # no line type in this example


def test_a_moderate_sms_pumping_risk_does_not_count_as_suspicion(
    api_with: Callable[..., NativeApi],
) -> None:
    started = api_with(fraud_min_sends=5).start(to="+12015550127")

    assert started.status_code == 201, started.text


def test_an_answer_without_packages_leaves_the_numbering_plans_line_type(
    api_with: Callable[..., NativeApi],
) -> None:
    body = looked_up(api_with, "+12015550199")  # the spec's first example: every package null

    assert (body["source"], body["line_type"], body["carrier"]) == (
        "network",
        "landline_or_mobile",
        None,
    )


def test_prism_refuses_a_lookup_without_credentials(prism: Prism) -> None:
    answer = httpx.get(f"{prism.url}/v2/PhoneNumbers/%2B12015550124")

    assert answer.status_code == 401  # so the passing tests above did authenticate
