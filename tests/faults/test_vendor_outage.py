"""A database outage on the compatibility APIs' routes: with PostgreSQL (a cluster of the
test's own) stopped, each vendor's start and check are refused 503 with Retry-After, in that
vendor's own error shape (docs/compat/), where the native routes answer problem JSON."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.fault_load import ADMIN_TOKEN, SECRET_KEY, START_TIMEOUT_SECONDS
from support.idresponse import CONTINUE, GATEWAY, IdResponse, assert_envelope
from support.ninety_nine import PATH as NINETY_NINE_PATH
from support.ninety_nine import SEND_KEYS
from support.numbers import new_israeli_mobile, new_mobile
from support.pg_cluster import own_cluster
from support.served import launch
from support.vendor_apps import SESSIONM_SETTINGS, VendorApp, create_vendor_app

pytestmark = [pytest.mark.e2e, pytest.mark.postgresql]

RETRY_AFTER = "1"  # database_unavailable's (api/problems.py)
UNAVAILABLE_DETAIL = "the database is unreachable; try again shortly"
SESSIONM = "/priv/v1/apps/{key}/messaging_events/sms/validation/{route}"
UNKNOWN_REQUEST_ID = "6f9619ff-8b86-d011-b42d-00cf4fc964ff"


@dataclass
class Outage:
    http: httpx.Client
    app: VendorApp

    @property
    def api_key(self) -> str:
        return f"{self.app.key_id}.{self.app.secret}"


@pytest.fixture(scope="module")
def outage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Outage]:
    """otpgate serving one app that every vendor API takes, its database stopped after each
    vendor's start was answered (so what is refused below is refused for the outage)."""
    root: Path = tmp_path_factory.mktemp("vendor-outage")
    with own_cluster() as cluster:
        served = launch(
            root / "data",
            root / "serve.log",
            start_timeout=START_TIMEOUT_SECONDS,
            OTPGATE_DATABASE_URL=cluster.url,
            OTPGATE_SECRET_KEY=SECRET_KEY,
            OTPGATE_ADMIN_TOKEN=ADMIN_TOKEN,
            OTPGATE_LOG_LEVEL="warning",
        )
        try:
            admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
            outage = Outage(served.http, create_vendor_app(served.http, admin, SESSIONM_SETTINGS))
            assert sessionm_request(outage).status_code == 200
            assert dotdigital_send(outage).status_code == 202
            assert ninety_nine_send(outage).json()["reason"] == 1
            assert_envelope(
                idresponse_gateway(outage).json(),
                "PENDING",
                "TRANSACTION REQUIRES FURTHER ATTENTION",
            )
            cluster.stop()
            yield outage
        finally:
            served.stop()


def sessionm_request(outage: Outage, route: str = "request", **fields: Any) -> httpx.Response:
    body = {"external_id": "customer-1", "to_phone_number": new_mobile().lstrip("+"), **fields}
    path = SESSIONM.format(key=outage.app.key_id, route=route)
    return outage.http.post(path, json=body, auth=outage.app.basic)


def dotdigital_send(outage: Outage) -> httpx.Response:
    body = {"to": new_mobile().lstrip("+"), "from": "Shop"}
    return outage.http.post("/webapi/verify", json=body, auth=outage.app.basic)


def ninety_nine_send(outage: Outage, **fields: str) -> httpx.Response:
    body = {"apiKey": outage.api_key, "from": "Shop", "to": new_israeli_mobile(), **fields}
    return outage.http.post(NINETY_NINE_PATH, data=body)


def idresponse_gateway(outage: Outage) -> httpx.Response:
    client = IdResponse(outage.http, outage.app.key_id, outage.app.secret)
    return outage.http.post(GATEWAY, json=client.request(new_mobile()))


def refused_for_the_outage(answer: httpx.Response, content_type: str) -> None:
    assert answer.status_code == 503, answer.text
    assert answer.headers["retry-after"] == RETRY_AFTER
    assert answer.headers["content-type"].startswith(content_type)


def test_sessionm_refuses_in_its_generic_error_shape(outage: Outage) -> None:
    for answer in (
        sessionm_request(outage),
        sessionm_request(outage, "confirmation", validation_code="123456"),
    ):
        refused_for_the_outage(answer, "application/json")
        assert answer.json() == {"status": "error", "errors": {"code": "service_unavailable"}}


def test_dotdigital_refuses_in_plain_text_as_its_other_refusals(outage: Outage) -> None:
    validate = f"/webapi/verify/{UNKNOWN_REQUEST_ID}/validate"
    for answer in (
        dotdigital_send(outage),
        outage.http.put(validate, json={"code": "123456"}, auth=outage.app.basic),
    ):
        refused_for_the_outage(answer, "text/plain")
        assert answer.text == "Service Unavailable"


def test_ninety_nine_digital_refuses_as_a_failed_send(outage: Outage) -> None:
    for answer in (ninety_nine_send(outage), ninety_nine_send(outage, code="123456")):
        refused_for_the_outage(answer, "application/json")
        body = answer.json()
        assert set(body) == SEND_KEYS
        assert (body["status"], body["unique"], body["reason"]) == ("FAIL", "", 5)


def test_idresponse_refuses_in_its_envelope(outage: Outage) -> None:
    gateway = idresponse_gateway(outage)
    refused_for_the_outage(gateway, "application/json")
    assert_envelope(gateway.json(), "FAIL", "FAILED TO SEND TO NUMBER")
    assert gateway.json()["result"]["issues"] == [UNAVAILABLE_DETAIL]

    checked = outage.http.post(CONTINUE, json={"token": "a" * 32, "codematch": {"key": "1234"}})
    refused_for_the_outage(checked, "application/json")
    assert_envelope(checked.json(), "FAIL", "FAILED OUT-OF-BAND CHECK")
    assert checked.json()["result"]["issues"] == [UNAVAILABLE_DETAIL]


def test_the_native_api_still_refuses_with_problem_json(outage: Outage) -> None:
    answer = outage.app.native.start()
    refused_for_the_outage(answer, "application/problem+json")
    assert answer.json()["code"] == "database_unavailable"
