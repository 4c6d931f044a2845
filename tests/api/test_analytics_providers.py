"""`GET /v1/analytics/providers`: each provider's delivery health, for the admin."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from support.analytics import delivered
from support.native import NativeApi


def providers(client: TestClient, admin_headers: dict[str, str]) -> list[dict[str, Any]]:
    answer = client.get("/v1/analytics/providers", headers=admin_headers)
    assert answer.status_code == 200, answer.text
    rows: list[dict[str, Any]] = answer.json()["providers"]
    return rows


def test_outbox_deliveries_are_counted_for_the_hour_and_the_day(
    api: NativeApi, client: TestClient, admin_headers: dict[str, str]
) -> None:
    for _ in range(3):
        delivered(api, api.started())

    rows = providers(client, admin_headers)

    assert [(r["provider"], r["channel"], r["window"], r["messages"]) for r in rows] == [
        ("outbox", "sms", "hour", 3),
        ("outbox", "sms", "day", 3),
    ]
    assert rows[0]["delivered_share"] == 1.0
    assert rows[0]["failed_share"] == 0.0
    # the test's clock stands still: queued, accepted and delivered in the same instant
    assert rows[0]["accepted_seconds_p50"] == 0.0
    assert rows[0]["delivered_seconds_p95"] == 0.0


def test_messages_older_than_the_window_drop_out(
    api: NativeApi, client: TestClient, admin_headers: dict[str, str], clock: Any
) -> None:
    delivered(api, api.started())
    clock.advance(2 * 3600)

    rows = providers(client, admin_headers)

    assert [(r["window"], r["messages"]) for r in rows] == [("day", 1)]


def test_providers_need_the_admin_token(api: NativeApi) -> None:
    answer = api.http.get("/v1/analytics/providers", headers=api.headers)

    assert answer.status_code == 403
