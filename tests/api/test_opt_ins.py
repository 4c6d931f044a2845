"""GET /v1/opt-ins: the records SessionM confirmations create, filtered and paginated."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from support.numbers import new_mobile
from support.outbox import read_code
from support.vendor_apps import SESSIONM_SETTINGS, MakeVendorApp, VendorApp, create_vendor_app


@pytest.fixture
def vendor_app(client: TestClient, admin_headers: dict[str, str]) -> MakeVendorApp:
    return lambda **settings: create_vendor_app(client, admin_headers, settings)


def opted_in(client: TestClient, app: VendorApp, external_id: str, to: str | None = None) -> str:
    """Opt `to` (a fresh number unless given) in for `external_id` through SessionM's API."""
    to = to or new_mobile()
    base = f"/priv/v1/apps/{app.key_id}/messaging_events/sms/validation"
    body = {"external_id": external_id, "to_phone_number": to}
    assert client.post(f"{base}/request", json=body, auth=app.basic).status_code == 200
    [pending] = app.native.list(to=to, status="pending").json()["verifications"]
    code = read_code(client, app.native.headers, to, verification_id=pending["id"])
    confirmed = client.post(
        f"{base}/confirmation", json={**body, "validation_code": code}, auth=app.basic
    )
    assert confirmed.json() == {"status": "ok"}
    return to


def opt_ins(client: TestClient, app: VendorApp, **params: Any) -> Any:
    return client.get("/v1/opt-ins", params=params, headers=app.native.headers)


def test_an_opt_in_has_its_customer_number_time_and_source(
    client: TestClient, vendor_app: MakeVendorApp
) -> None:
    app = vendor_app(**SESSIONM_SETTINGS)
    to = opted_in(client, app, "cust-1")
    answer = opt_ins(client, app)
    assert answer.status_code == 200
    [record] = answer.json()["opt_ins"]
    assert set(record) == {"external_id", "to", "verified_at", "source"}
    assert (record["external_id"], record["to"], record["source"]) == ("cust-1", to, "sessionm")
    assert record["verified_at"].endswith("Z")
    assert answer.json()["next_cursor"] is None


def test_opt_ins_filter_by_customer_and_number_and_page_by_cursor(
    client: TestClient, vendor_app: MakeVendorApp, clock: Any
) -> None:
    app = vendor_app(**SESSIONM_SETTINGS)
    shared = opted_in(client, app, "cust-1")
    clock.advance(1)  # ids order by creation time: one tick between records
    opted_in(client, app, "cust-1")
    clock.advance(1)
    opted_in(client, app, "cust-2", shared)
    assert len(opt_ins(client, app, external_id="cust-1").json()["opt_ins"]) == 2
    by_number = opt_ins(client, app, to=shared).json()["opt_ins"]
    assert {record["external_id"] for record in by_number} == {"cust-1", "cust-2"}
    both = opt_ins(client, app, external_id="cust-2", to=shared).json()["opt_ins"]
    assert [record["external_id"] for record in both] == ["cust-2"]

    first = opt_ins(client, app, limit=2).json()
    assert len(first["opt_ins"]) == 2 and first["next_cursor"]
    rest = opt_ins(client, app, limit=2, cursor=first["next_cursor"]).json()
    assert len(rest["opt_ins"]) == 1 and rest["next_cursor"] is None
    newest_first = [r["external_id"] for r in first["opt_ins"] + rest["opt_ins"]]
    assert newest_first == ["cust-2", "cust-1", "cust-1"]


def test_another_apps_opt_ins_are_not_listed(client: TestClient, vendor_app: MakeVendorApp) -> None:
    app, other = vendor_app(**SESSIONM_SETTINGS), vendor_app(**SESSIONM_SETTINGS)
    opted_in(client, app, "cust-1")
    assert opt_ins(client, other).json()["opt_ins"] == []


@pytest.mark.parametrize(
    ("params", "field"),
    [({"limit": 0}, "limit"), ({"limit": 101}, "limit"),
     ({"external_id": "x" * 129}, "external_id"), ({"to": "not a number"}, "to")],
)  # fmt: skip
def test_bad_filters_are_problems_naming_the_field(
    client: TestClient, vendor_app: MakeVendorApp, params: dict[str, Any], field: str
) -> None:
    answer = opt_ins(client, vendor_app(), **params)
    assert answer.status_code == 400
    assert answer.json()["field"] == field


def test_opt_ins_need_an_app_key(client: TestClient) -> None:
    answer = client.get("/v1/opt-ins")
    assert answer.status_code == 401
    assert answer.headers["content-type"] == "application/problem+json"
