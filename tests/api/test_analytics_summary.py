"""`GET /v1/analytics/summary`: conversion, groups and time ranges, one app's own figures."""

from __future__ import annotations

from typing import Any

from support.analytics import delivered, summary
from support.native import NativeApi

FRANCE_MOBILE = "+33612345678"


def approve(api: NativeApi, verification: dict[str, Any]) -> None:
    checked = api.check(verification["id"], api.code_of(verification))
    assert checked.json()["valid"] is True, checked.text


def test_conversion_rate_is_approved_over_started(api: NativeApi) -> None:
    started = [api.started() for _ in range(4)]
    approve(api, started[0])
    for verification in started:
        delivered(api, verification)

    figures = summary(api)

    assert figures["verifications"] == 4
    assert figures["approved"] == 1
    assert figures["conversion_rate"] == 0.25
    assert figures["messages"] == 4
    assert figures["delivered"] == 4
    assert figures["undelivered"] == 0
    assert figures["groups"] == []


def test_no_verifications_give_a_null_conversion_rate(api: NativeApi) -> None:
    figures = summary(api)

    assert figures["verifications"] == 0
    assert figures["conversion_rate"] is None


def test_an_app_sees_only_its_own_verifications(api: NativeApi, api_with: Any) -> None:
    other = api_with()
    approve(other, other.started())
    other.started()
    api.started()

    assert summary(api)["verifications"] == 1
    assert summary(api)["approved"] == 0
    assert summary(other)["verifications"] == 2
    assert summary(other)["approved"] == 1


def test_groups_by_country_channel_and_prefix(api: NativeApi) -> None:
    france = api.started(to=FRANCE_MOBILE)
    approve(api, france)
    api.started(to="+447400990001")
    api.started(to="+447400990002")

    by_country = summary(api, group_by="country")["groups"]
    by_channel = summary(api, group_by="channel")["groups"]
    by_prefix = summary(api, group_by="prefix")["groups"]

    assert [(g["key"], g["verifications"], g["approved"]) for g in by_country] == [
        ("GB", 2, 0),
        ("FR", 1, 1),
    ]
    assert by_country[1]["conversion_rate"] == 1.0
    assert [(g["key"], g["verifications"]) for g in by_channel] == [("sms", 3)]
    # the pumping guard's prefix: calling code and 3 digits (fraud_prefix_digits)
    assert [(g["key"], g["verifications"]) for g in by_prefix] == [("+44740", 2), ("+33612", 1)]


def test_groups_by_provider_count_messages_per_provider(api: NativeApi) -> None:
    verification = api.started()
    delivered(api, verification)

    groups = summary(api, group_by="provider")["groups"]

    assert [(g["key"], g["messages"], g["delivered"]) for g in groups] == [("outbox", 1, 1)]


def test_by_day_every_day_of_the_range_has_a_group(api: NativeApi, clock: Any) -> None:
    api.started()  # 2026-01-01 12:00
    clock.advance(86_400)
    approve(api, api.started())  # 2026-01-02 12:00
    api.started()

    days = summary(api, group_by="day", **{"from": "2025-12-31T00:00:00Z"})["groups"]

    assert [(g["key"], g["verifications"], g["approved"]) for g in days] == [
        ("2025-12-31", 0, 0),
        ("2026-01-01", 1, 0),
        ("2026-01-02", 2, 1),
    ]
    assert days[0]["conversion_rate"] is None
    assert days[2]["conversion_rate"] == 0.5


def test_time_range_counts_from_inclusive_to_exclusive(api: NativeApi, clock: Any) -> None:
    api.started()  # 12:00:00
    clock.advance(3600)
    api.started()  # 13:00:00
    clock.advance(3600)
    api.started()  # 14:00:00

    window = {"from": "2026-01-01T13:00:00Z", "to": "2026-01-01T14:00:00Z"}
    assert summary(api, **window)["verifications"] == 1
    assert summary(api, **{"from": "2026-01-01T12:30:00+00:00"})["verifications"] == 2
    assert summary(api, to="2026-01-01T13:00:00.001Z")["verifications"] == 2
    # the default: the last 30 days up to now
    clock.advance(31 * 86_400)
    assert summary(api)["verifications"] == 0


def test_country_and_channel_filters_narrow_the_figures(api: NativeApi) -> None:
    api.started(to=FRANCE_MOBILE)
    api.started()

    assert summary(api, country="FRA")["verifications"] == 1
    assert summary(api, country="GB")["verifications"] == 1
    assert summary(api, channel="sms")["verifications"] == 2
    assert summary(api, channel="call")["verifications"] == 0


def test_bad_parameters_are_400_problems(api: NativeApi) -> None:
    cases = [
        ({"from": "2026-01-02T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, "from"),
        ({"from": "2026-01-01T00:00:00"}, "from"),
        ({"to": "yesterday"}, "to"),
        ({"from": "2024-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, "from"),
        ({"group_by": "week"}, None),
        ({"country": "XX"}, "country"),
    ]
    for params, field in cases:
        answer = api.http.get("/v1/analytics/summary", params=params, headers=api.headers)
        assert answer.status_code == 400, (params, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
        if field is not None:
            assert answer.json()["field"] == field, answer.json()


def test_summary_needs_an_app_key(api: NativeApi) -> None:
    answer = api.http.get("/v1/analytics/summary")

    assert answer.status_code == 401
