"""API keys (Bearer and Basic), revocation, the admin token, and what one app can see."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from fastapi.testclient import TestClient
from support.bodies import verification_request
from support.native import NativeApi

WWW_AUTHENTICATE = 'Bearer realm="otpgate", Basic realm="otpgate"'


def basic(user: str, password: str) -> dict[str, str]:
    pair = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {pair}"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_basic_auth_with_key_id_and_secret_works(client: TestClient, app: Any) -> None:
    api = NativeApi(client, basic(app.key_id, app.secret))
    verification = api.started()
    assert api.get(verification["id"]).status_code == 200


def test_an_unknown_key_id_and_a_wrong_secret_get_the_same_401(
    client: TestClient, app: Any
) -> None:
    def attempt(headers: dict[str, str]) -> Any:
        return client.post("/v1/verifications", json=verification_request(), headers=headers)

    refusals = {
        "unknown key id": attempt(bearer(f"key_unknown.{app.secret}")),
        "wrong secret": attempt(bearer(f"{app.key_id}.wrong-secret")),
        "basic, unknown key id": attempt(basic("key_unknown", app.secret)),
        "basic, wrong secret": attempt(basic(app.key_id, "wrong-secret")),
        "no secret": attempt(bearer(app.key_id)),
        "no credentials": attempt({}),
    }
    answers = {name: (r.status_code, r.headers["WWW-Authenticate"]) for name, r in refusals.items()}
    assert set(answers.values()) == {(401, WWW_AUTHENTICATE)}, answers
    bodies = {name: r.json() for name, r in refusals.items() if name != "no credentials"}
    assert len({str(body) for body in bodies.values()}) == 1, bodies
    body = refusals["unknown key id"].json()
    assert body["code"] == "unauthorized"
    assert refusals["unknown key id"].headers["content-type"] == "application/problem+json"
    assert app.key_id not in str(body)


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer",
        "Bearer ",
        "Basic !!!notbase64",
        "Basic " + base64.b64encode(b"nocolon").decode(),
        "Token abc",
        "Bearer " + "x" * 5000,
        "Bearer \u00e9.\u00e9",
        # a NUL no PostgreSQL text can hold: refused before it reaches the database
        "Basic " + base64.b64encode(b"\x00:secret").decode(),
        "Basic " + base64.b64encode("key_\u00e9\x01:secret".encode()).decode(),
    ],
)
def test_malformed_credentials_are_a_401(client: TestClient, authorization: str) -> None:
    raw = authorization.encode("latin-1")  # as the bytes arrive, not as httpx would check them
    answer = client.get("/v1/verifications", headers={"Authorization": raw})  # type: ignore[dict-item]
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"] == WWW_AUTHENTICATE


def test_a_revoked_key_fails_at_once_and_the_apps_other_keys_work(
    client: TestClient, app: Any, admin_headers: dict[str, str]
) -> None:
    api = NativeApi(client, app.headers)
    verification = api.started()
    other = client.post(f"/v1/apps/{app.id}/keys", headers=admin_headers).json()
    revoked = client.delete(f"/v1/apps/{app.id}/keys/{app.key_id}", headers=admin_headers)
    assert revoked.status_code == 204
    for headers in (app.headers, basic(app.key_id, app.secret)):
        answer = client.get(f"/v1/verifications/{verification['id']}", headers=headers)
        assert answer.status_code == 401
    assert (
        client.get(
            f"/v1/verifications/{verification['id']}", headers=bearer(other["api_key"])
        ).status_code
        == 200
    )


def test_revoking_twice_or_another_apps_key_is_not_found(
    client: TestClient, make_app: Any, admin_headers: dict[str, str]
) -> None:
    shop, bank = make_app(), make_app()
    wrong_app = client.delete(f"/v1/apps/{bank.id}/keys/{shop.key_id}", headers=admin_headers)
    assert wrong_app.status_code == 404
    assert client.get("/v1/verifications", headers=shop.headers).status_code == 200
    first = client.delete(f"/v1/apps/{shop.id}/keys/{shop.key_id}", headers=admin_headers)
    assert first.status_code == 204
    again = client.delete(f"/v1/apps/{shop.id}/keys/{shop.key_id}", headers=admin_headers)
    assert (again.status_code, again.json()["code"]) == (404, "not_found")


ADMIN_ROUTES = [
    ("POST", "/v1/apps", {"name": "new"}),
    ("GET", "/v1/apps", None),
    ("GET", "/v1/apps/{app_id}", None),
    ("PATCH", "/v1/apps/{app_id}", {"settings": {}}),
    ("POST", "/v1/apps/{app_id}/keys", None),
    ("DELETE", "/v1/apps/{app_id}/keys/{key_id}", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ROUTES)
def test_admin_routes_refuse_no_token_with_401_and_an_app_key_with_403(
    client: TestClient, app: Any, method: str, path: str, body: Any
) -> None:
    url = path.format(app_id=app.id, key_id=app.key_id)
    without = client.request(method, url, json=body)
    assert without.status_code == 401
    assert without.headers["WWW-Authenticate"] == WWW_AUTHENTICATE
    wrong_token = client.request(method, url, json=body, headers=bearer("not-the-admin-token"))
    assert wrong_token.status_code == 401
    with_app_key = client.request(method, url, json=body, headers=app.headers)
    assert (with_app_key.status_code, with_app_key.json()["code"]) == (403, "forbidden")
    with_basic = client.request(method, url, json=body, headers=basic(app.key_id, app.secret))
    assert with_basic.status_code == 403
    assert client.get("/v1/verifications", headers=app.headers).status_code == 200  # not revoked


def test_the_admin_token_is_not_an_app_key(
    client: TestClient, admin_headers: dict[str, str]
) -> None:
    answer = client.post("/v1/verifications", json=verification_request(), headers=admin_headers)
    assert answer.status_code == 401


def test_app_b_cannot_see_check_or_cancel_app_as_verification(
    client: TestClient, make_app: Any
) -> None:
    a, b = NativeApi(client, make_app().headers), NativeApi(client, make_app().headers)
    verification = a.started()
    code = a.code_of(verification)
    for answer in (
        b.get(verification["id"]),
        b.check(verification["id"], code),
        b.cancel(verification["id"]),
        b.check_by_number(verification["to"], code),
        client.get(f"/v1/verifications/{verification['id']}/messages", headers=b.headers),
    ):
        assert (answer.status_code, answer.json()["code"]) == (404, "not_found")
    assert b.list().json()["verifications"] == []
    assert b.list(to=verification["to"]).json()["verifications"] == []
    assert b.outbox(to=verification["to"]).json()["messages"] == []
    untouched = a.get(verification["id"]).json()
    assert (untouched["status"], untouched["attempts"]) == ("pending", 0)
    assert a.check(verification["id"], code).json()["valid"] is True


def test_the_same_number_pending_in_two_apps_is_checked_in_its_own_app(
    client: TestClient, make_app: Any
) -> None:
    a, b = NativeApi(client, make_app().headers), NativeApi(client, make_app().headers)
    in_a = a.started()
    in_b = b.started(to=in_a["to"])
    code_a = a.code_of(in_a)
    code_b = b.code_of(in_b)
    if code_a != code_b:
        assert b.check_by_number(in_a["to"], code_a).json()["valid"] is False
    assert a.check_by_number(in_a["to"], code_a).json() == {
        "id": in_a["id"],
        "status": "approved",
        "valid": True,
        "attempts_left": 4,
    }


def test_a_key_revoked_between_two_checks_is_refused_at_once_and_counts_nothing(
    client: TestClient, app: Any, admin_headers: dict[str, str]
) -> None:
    """A check trusts a key read a moment ago only as far as its own UPDATE finds the key
    live: revoked in between, the check is a 401 and the attempt is not counted."""
    api = NativeApi(client, app.headers)
    verification = api.started()
    first = client.post(
        f"/v1/verifications/{verification['id']}/check",
        json={"code": "000000"},
        headers=app.headers,
    )
    assert first.status_code == 200
    attempts = api.get(verification["id"]).json()["attempts"]
    other = client.post(f"/v1/apps/{app.id}/keys", headers=admin_headers).json()
    assert (
        client.delete(f"/v1/apps/{app.id}/keys/{app.key_id}", headers=admin_headers).status_code
        == 204
    )

    again = client.post(
        f"/v1/verifications/{verification['id']}/check",
        json={"code": "000000"},
        headers=app.headers,
    )
    assert again.status_code == 401
    assert again.headers["WWW-Authenticate"] == WWW_AUTHENTICATE
    still = client.get(f"/v1/verifications/{verification['id']}", headers=bearer(other["api_key"]))
    assert still.json()["attempts"] == attempts
    missing = client.post(
        "/v1/verifications/ver_unknown/check", json={"code": "000000"}, headers=app.headers
    )
    assert missing.status_code == 401  # not the 404 a live key would get
