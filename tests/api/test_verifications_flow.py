"""The native API's main flow through the real ASGI app and a real SQLite database."""

from __future__ import annotations

from conftest import AppHandle, FakeClock, read_code
from fastapi.testclient import TestClient

NUMBER = "+447123123456"


def start(client: TestClient, app: AppHandle, **fields: object) -> dict:
    response = client.post("/v1/verifications", json={"to": NUMBER, **fields},
                           headers=app.headers)
    assert response.status_code in (200, 201), response.text
    return response.json()


def test_right_code_approves_once(client: TestClient, app: AppHandle) -> None:
    verification = start(client, app)
    assert verification["status"] == "pending"
    assert verification["line_type"] == "mobile" and verification["country"] == "GB"
    code = read_code(client, app.headers, NUMBER)
    checked = client.post(f"/v1/verifications/{verification['id']}/check",
                          json={"code": code}, headers=app.headers)
    assert checked.json() == {"id": verification["id"], "status": "approved", "valid": True,
                              "attempts_left": 4}
    again = client.post(f"/v1/verifications/{verification['id']}/check", json={"code": code},
                        headers=app.headers)
    assert again.status_code == 409
    assert again.json()["code"] == "not_pending"
    assert again.json()["verification_status"] == "approved"


def test_code_expires_with_the_clock(client: TestClient, app: AppHandle,
                                     clock: FakeClock) -> None:
    verification = start(client, app, ttl_seconds=60)
    code = read_code(client, app.headers, NUMBER)
    clock.advance(61)
    checked = client.post(f"/v1/verifications/{verification['id']}/check",
                          json={"code": code}, headers=app.headers)
    assert checked.status_code == 409
    assert checked.json()["verification_status"] == "expired"
    assert client.get(f"/v1/verifications/{verification['id']}",
                      headers=app.headers).json()["status"] == "expired"
