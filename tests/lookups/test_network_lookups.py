"""Network lookups through the native API, against Vonage Number Insight: the US mobile and
VoIP cases the numbering plan cannot tell, the shared cache, the daily budget, a failing or
slow provider, one call for concurrent asks, and the pumping guard's signal."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from peers.number_insight import FakeNumberInsight
from support.native import NativeApi

from otpgate.config import Settings
from otpgate.domain.phone import lookup_number
from otpgate.runtime import Runtime, build_runtime

US_MOBILE = "+12015550123"  # landline_or_mobile by the numbering plan; mobile on the network
US_VOIP = "+12015550124"
US_LANDLINE = "+12015550125"
US_SWITCHED_OFF = "+12015550126"
US_BLACKLISTED = "+12015550127"
US_FAILING = "+12015550500"
US_SLOW = "+12015550408"
UK_MOBILE = "+447123123456"  # the numbering plan already knows it is a mobile

NativeFor = Callable[..., NativeApi]


def test_a_network_lookup_resolves_a_us_number_and_shows_its_carrier(
    api_with: NativeFor, insight: FakeNumberInsight
) -> None:
    found = api_with().lookup(US_MOBILE, network="true")

    assert found.status_code == 200, found.text
    body = found.json()
    assert body["line_type"] == "mobile"
    assert body["source"] == "network"
    assert body["reachable"] is True
    assert body["carrier"] == {
        "name": "AT&T Mobility",
        "mobile_country_code": "310",
        "mobile_network_code": "090",
    }
    assert body["checked_at"] == "2026-01-01T12:00:00.000Z"
    [asked] = insight.lookups("12015550123")
    assert asked.path == "/ni/advanced/json"


@pytest.mark.parametrize("lookup_settings", [{"vonage_insight_level": "standard"}])
def test_vonage_standard_gives_the_line_type_but_not_reachability(
    api_with: NativeFor, insight: FakeNumberInsight
) -> None:
    body = api_with().lookup(US_SWITCHED_OFF, network="true").json()

    assert (body["line_type"], body["reachable"]) == ("mobile", None)
    assert [seen.path for seen in insight.lookups()] == ["/ni/standard/json"]


def test_a_second_lookup_of_a_number_is_answered_from_the_cache_without_a_call(
    api_with: NativeFor, insight: FakeNumberInsight
) -> None:
    api = api_with()
    assert api.lookup(US_VOIP, network="true").json()["source"] == "network"

    again = api_with().lookup(US_VOIP, network="true").json()  # another app, the same answer

    assert (again["source"], again["line_type"]) == ("cache", "voip")
    assert len(insight.lookups("12015550124")) == 1


def test_a_lookup_without_network_asks_only_for_what_the_plan_cannot_tell(
    api_with: NativeFor, insight: FakeNumberInsight
) -> None:
    api = api_with()
    assert api.lookup(UK_MOBILE).json()["source"] == "numbering_plan"
    assert api.lookup(US_MOBILE).json()["source"] == "network"  # landline_or_mobile
    assert api_with(network_lookup="never").lookup(US_LANDLINE).json()["source"] == (
        "numbering_plan"
    )
    assert [seen.query["number"] for seen in insight.lookups()] == ["12015550123"]


def test_a_start_shows_the_line_type_the_network_resolved(
    api_with: NativeFor, insight: FakeNumberInsight
) -> None:
    started = api_with().started(to=US_MOBILE)

    assert started["line_type"] == "mobile"
    assert len(insight.lookups()) == 1


@pytest.mark.parametrize(
    ("blocked", "to", "status"),
    [
        (["mobile"], US_MOBILE, 400),
        (["voip"], US_VOIP, 400),
        (["landline"], US_LANDLINE, 400),
        (["voip"], US_MOBILE, 201),
        (["landline"], US_MOBILE, 201),
    ],
)
def test_blocked_line_types_apply_to_the_line_type_the_network_resolved(
    api_with: NativeFor, blocked: list[str], to: str, status: int
) -> None:
    answer = api_with(blocked_line_types=blocked).start(to=to)

    assert answer.status_code == status, answer.text
    if status == 400:
        assert answer.json()["code"] == "line_type_blocked"


def test_blocking_voip_asks_the_network_even_about_a_number_the_plan_calls_mobile(
    api_with: NativeFor, insight: FakeNumberInsight
) -> None:
    api_with(blocked_line_types=["voip"]).started(to=UK_MOBILE)

    assert len(insight.lookups("447123123456")) == 1


def test_a_second_start_for_the_same_number_makes_no_call(
    api_with: NativeFor, insight: FakeNumberInsight
) -> None:
    first = api_with().started(to=US_MOBILE)
    second = api_with().started(to=US_MOBILE)

    assert first["line_type"] == second["line_type"] == "mobile"
    assert len(insight.lookups("12015550123")) == 1


def test_past_the_daily_budget_starts_fall_back_to_the_numbering_plan(
    api_with: NativeFor, insight: FakeNumberInsight, client: TestClient
) -> None:
    api = api_with(lookups_per_day=1)
    assert api.started(to=US_MOBILE)["line_type"] == "mobile"

    over = api.started(to=US_VOIP)

    assert over["line_type"] == "landline_or_mobile"
    assert len(insight.lookups()) == 1
    assert 'otpgate_lookups_total{outcome="capped",provider="vonage"} 1.0' in (
        client.get("/metrics").text
    )


@pytest.mark.parametrize("to", [US_FAILING, "+12015550503"], ids=["http_500", "status_busy"])
def test_a_failing_provider_never_fails_a_start(
    api_with: NativeFor, client: TestClient, to: str
) -> None:
    started = api_with().started(to=to)

    assert started["line_type"] == "landline_or_mobile"
    metrics = client.get("/metrics").text
    assert 'otpgate_lookups_total{outcome="failed",provider="vonage"} 1.0' in metrics


def test_an_app_that_refuses_without_a_lookup_answers_503(api_with: NativeFor) -> None:
    refused = api_with(lookup_failure="refuse").start(to=US_FAILING)

    assert refused.status_code == 503
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "lookup_unavailable"


def test_a_slow_provider_adds_at_most_the_timeout_to_a_start(
    api_with: NativeFor, client: TestClient
) -> None:
    api = api_with()
    began = time.monotonic()

    started = api.started(to=US_SLOW)

    assert time.monotonic() - began < 4.5  # the timeout is 2 s; the provider takes 6 s
    assert started["line_type"] == "landline_or_mobile"
    metrics = client.get("/metrics").text
    assert 'otpgate_lookups_total{outcome="timeout",provider="vonage"} 1.0' in metrics
    assert 'otpgate_lookup_duration_seconds_count{provider="vonage"} 1.0' in metrics


def test_concurrent_lookups_of_one_number_share_one_provider_call(
    runtime: Runtime, client: TestClient, make_app: Any, insight: FakeNumberInsight
) -> None:
    app = runtime.apps.get_app(make_app().id)
    number = lookup_number("+12015550130")
    insight.delay_seconds = 1.0  # every ask is under way at once while the first waits

    async def ask_five() -> list[str]:
        try:
            answers = await asyncio.gather(
                *(runtime.lookups.look_up(app, number, force=True) for _ in range(5))
            )
        finally:
            await runtime.lookups.close()  # its connections belong to this event loop
        return [answer.source.value for answer in answers]

    sources = asyncio.run(ask_five())

    assert sources == ["network"] * 5
    assert len(insight.lookups("12015550130")) == 1


def test_an_answer_one_node_paid_for_serves_another_node(
    runtime: Runtime,
    settings: Settings,
    clock: Any,
    make_app: Any,
    insight: FakeNumberInsight,
) -> None:
    app = runtime.apps.get_app(make_app().id)
    other_node = build_runtime(settings, clock=clock)  # the same database
    number = lookup_number("+12015550131")

    async def on_each_node() -> list[str]:
        try:
            first = await runtime.lookups.look_up(app, number, force=True)
            second = await other_node.lookups.look_up(app, number, force=True)
        finally:
            await runtime.lookups.close()
            await other_node.lookups.close()
        return [first.source.value, second.source.value]

    try:
        assert asyncio.run(on_each_node()) == ["network", "cache"]
    finally:
        other_node.close()
    assert len(insight.lookups("12015550131")) == 1


def test_a_number_the_network_calls_switched_off_counts_toward_its_prefixs_suspicion(
    api_with: NativeFor,
) -> None:
    # one suspicious send weighs five: with a surge threshold of five sends, it blocks
    guarded = api_with(fraud_min_sends=5)

    refused = guarded.start(to=US_SWITCHED_OFF)

    assert refused.status_code == 403, refused.text
    assert refused.json()["code"] == "fraud_blocked"


def test_the_pumping_signal_of_lookups_can_be_turned_off(api_with: NativeFor) -> None:
    api = api_with(fraud_min_sends=5, lookup_feeds_fraud_guard=False)

    assert api.start(to=US_BLACKLISTED).status_code == 201
    assert api.start(to=US_SWITCHED_OFF).status_code == 201


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"network_lookup": "sometimes"}, "settings.network_lookup"),
        ({"lookup_failure": "deny"}, "settings.lookup_failure"),
        ({"lookup_cache_days": 0}, "settings.lookup_cache_days"),
        ({"lookups_per_day": True}, "settings.lookups_per_day"),
        ({"lookup_feeds_fraud_guard": "yes"}, "settings.lookup_feeds_fraud_guard"),
    ],
)
def test_a_bad_lookup_setting_is_a_400_naming_it(
    client: TestClient, admin_headers: dict[str, str], changes: dict[str, object], field: str
) -> None:
    answer = client.post(
        "/v1/apps", json={"name": "bad", "settings": changes}, headers=admin_headers
    )
    assert answer.status_code == 400
    assert answer.json()["field"] == field
