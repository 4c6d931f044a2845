"""Apps, their settings and keys, through the admin routes."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from support.bodies import app_request
from support.channel_settings import CHANNEL_DEFAULTS
from support.lookup_settings import LOOKUP_DEFAULTS
from support.message_settings import MESSAGE_DEFAULTS
from support.native import NativeApi
from support.outbox import wrong_code
from support.settings import ABUSE_DEFAULTS

DEFAULTS = {
    "code_length": 6,
    "code_alphabet": "digits",
    "ttl_seconds": 600,
    "max_attempts": 5,
    "max_sends": 5,
    "resend_cooldown_seconds": 30,
    "sender": None,
    "allowed_countries": [],
    "blocked_countries": [],
    "blocked_line_types": [],
    "approved_senders": [],
    "status_callback_url": None,
    "sms_campaign": None,
    "sms_providers": [],
    **ABUSE_DEFAULTS,
    **MESSAGE_DEFAULTS,
    **LOOKUP_DEFAULTS,
    **CHANNEL_DEFAULTS,
}


def test_a_new_app_shows_every_setting_with_its_value(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    request = app_request("shop", max_attempts=3, allowed_countries=["GBR"])
    created = client.post("/v1/apps", json=request, headers=admin_headers)
    assert created.status_code == 201
    body = created.json()
    assert body["id"].startswith("app_") and body["name"] == "shop"
    assert body["settings"] == {**DEFAULTS, "max_attempts": 3, "allowed_countries": ["GB"]}


def test_apps_are_listed_and_read_by_id(client: TestClient, admin_headers: dict[str, str]) -> None:
    ids = [
        client.post("/v1/apps", json=app_request(name), headers=admin_headers).json()["id"]
        for name in ("one", "two")
    ]
    listed = client.get("/v1/apps", headers=admin_headers).json()["apps"]
    assert {app["id"] for app in listed} >= set(ids)
    read = client.get(f"/v1/apps/{ids[1]}", headers=admin_headers)
    assert (read.status_code, read.json()["name"], read.json()["settings"]) == (
        200,
        "two",
        DEFAULTS,
    )


def test_patch_changes_only_the_settings_it_names(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    app_id = client.post(
        "/v1/apps", json=app_request("patched", sender="SHOP"), headers=admin_headers
    ).json()["id"]
    patched = client.patch(
        f"/v1/apps/{app_id}", json={"settings": {"code_length": 8}}, headers=admin_headers
    )
    assert patched.status_code == 200
    assert patched.json()["settings"] == {**DEFAULTS, "sender": "SHOP", "code_length": 8}
    assert client.get(f"/v1/apps/{app_id}", headers=admin_headers).json() == patched.json()


def test_changed_settings_apply_to_new_verifications(
    client: TestClient, app: Any, admin_headers: dict[str, str]
) -> None:
    client.patch(
        f"/v1/apps/{app.id}", json={"settings": {"max_attempts": 2}}, headers=admin_headers
    )
    assert NativeApi(client, app.headers).started()["max_attempts"] == 2


def test_a_bad_setting_is_refused_naming_it_and_changes_nothing(
    client: TestClient, app: Any, admin_headers: dict[str, str]
) -> None:
    refused = client.patch(
        f"/v1/apps/{app.id}",
        json={"settings": {"max_attempts": 3, "code_length": 11}},
        headers=admin_headers,
    )
    assert refused.status_code == 400
    assert (refused.json()["code"], refused.json()["field"]) == (
        "validation_error",
        "settings.code_length",
    )
    assert client.get(f"/v1/apps/{app.id}", headers=admin_headers).json()["settings"] == DEFAULTS


def test_an_app_name_is_taken_once(client: TestClient, admin_headers: dict[str, str]) -> None:
    first = client.post("/v1/apps", json=app_request("dup"), headers=admin_headers)
    assert first.status_code == 201
    again = client.post("/v1/apps", json=app_request("dup"), headers=admin_headers)
    assert (again.status_code, again.json()["code"], again.json()["field"]) == (
        409,
        "conflict",
        "name",
    )


def test_an_unknown_app_is_not_found_on_every_admin_route(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    for answer in (
        client.get("/v1/apps/app_unknown", headers=admin_headers),
        client.patch("/v1/apps/app_unknown", json={"settings": {}}, headers=admin_headers),
        client.post("/v1/apps/app_unknown/keys", headers=admin_headers),
        client.delete("/v1/apps/app_unknown/keys/key_unknown", headers=admin_headers),
    ):
        assert (answer.status_code, answer.json()["code"]) == (404, "not_found")


def test_a_new_key_is_shown_once_as_its_three_forms(
    client: TestClient, app: Any, admin_headers: dict[str, str]
) -> None:
    created = client.post(f"/v1/apps/{app.id}/keys", headers=admin_headers)
    assert created.status_code == 201
    key = created.json()
    assert set(key) == {"key_id", "secret", "api_key"}
    assert key["api_key"] == f"{key['key_id']}.{key['secret']}"
    assert len(key["secret"]) >= 32
    listed = client.get("/v1/apps", headers=admin_headers).text
    shown = client.get(f"/v1/apps/{app.id}", headers=admin_headers).text
    assert key["secret"] not in listed and key["secret"] not in shown
    api = NativeApi(client, {"Authorization": f"Bearer {key['api_key']}"})
    assert api.start().status_code == 201


def test_a_verification_keeps_the_attempts_it_started_with(
    client: TestClient, app: Any, admin_headers: dict[str, str]
) -> None:
    api = NativeApi(client, app.headers)
    before = api.started()
    client.patch(
        f"/v1/apps/{app.id}", json={"settings": {"max_attempts": 1}}, headers=admin_headers
    )
    wrong = api.check(before["id"], wrong_code(api.code_of(before)))
    assert (wrong.json()["status"], wrong.json()["attempts_left"]) == ("pending", 4)
