"""Listing verifications: newest first, cursor pages, filters by number and status."""

from __future__ import annotations

from typing import Any

import pytest
from support.native import NativeApi
from support.numbers import new_mobile


def start_several(api: NativeApi, clock: Any, count: int, **fields: Any) -> list[dict[str, Any]]:
    """`count` verifications, one second apart, oldest first."""
    started = []
    for _ in range(count):
        started.append(api.started(**fields))
        clock.advance(1)
    return started


def test_verifications_are_listed_newest_first(api: NativeApi, clock: Any) -> None:
    started = start_several(api, clock, 3)
    listed = api.list().json()
    assert [v["id"] for v in listed["verifications"]] == [v["id"] for v in reversed(started)]
    assert listed["next_cursor"] is None
    newest, read = listed["verifications"][0], api.get(started[-1]["id"]).json()
    # the delivery loop may move delivery_status (and the step's status) on between the reads
    moving = {"delivery_status": None, "workflow": None}
    assert newest | moving == read | moving


def test_the_cursor_walks_every_verification_once(api: NativeApi, clock: Any) -> None:
    started = start_several(api, clock, 5)
    seen, pages, cursor = [], [], None
    while True:
        page = api.list(limit=2, **({"cursor": cursor} if cursor else {})).json()
        pages.append(len(page["verifications"]))
        seen += [v["id"] for v in page["verifications"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == [2, 2, 1]
    assert seen == [v["id"] for v in reversed(started)]


def test_a_full_last_page_is_followed_by_an_empty_one(api: NativeApi, clock: Any) -> None:
    start_several(api, clock, 2)
    first = api.list(limit=2).json()
    assert first["next_cursor"] is not None
    last = api.list(limit=2, cursor=first["next_cursor"]).json()
    assert last == {"verifications": [], "next_cursor": None}


def test_the_number_filter_takes_e164_with_or_without_an_encoded_plus(
    api: NativeApi, clock: Any
) -> None:
    to = new_mobile()
    mine = api.started(to=to)
    start_several(api, clock, 2)
    assert [v["id"] for v in api.list(to=to).json()["verifications"]] == [mine["id"]]
    unencoded = api.http.get(f"/v1/verifications?to={to}", headers=api.headers)  # + reads as space
    assert [v["id"] for v in unencoded.json()["verifications"]] == [mine["id"]]


def test_the_status_filter_reads_statuses_as_of_now(api: NativeApi, clock: Any) -> None:
    approved = api.started()
    api.check(approved["id"], api.code_of(approved))
    canceled = api.started()
    api.cancel(canceled["id"])
    short = api.started(ttl_seconds=5)
    pending = api.started(ttl_seconds=600)
    clock.advance(5)  # `short` is now expired, though nothing stored it

    def ids(status: str) -> list[str]:
        return [v["id"] for v in api.list(status=status).json()["verifications"]]

    assert ids("approved") == [approved["id"]]
    assert ids("canceled") == [canceled["id"]]
    assert ids("pending") == [pending["id"]]
    assert ids("expired") == [short["id"]]
    assert api.list(status="expired").json()["verifications"][0]["status"] == "expired"
    assert ids("locked") == []


def test_filters_combine(api: NativeApi, clock: Any) -> None:
    to = new_mobile()
    first = api.started(to=to)
    api.cancel(first["id"])
    second = api.started(to=to)
    api.started()
    assert [v["id"] for v in api.list(to=to, status="pending").json()["verifications"]] == [
        second["id"]
    ]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"status": "done"}, "status"),
        ({"to": "not-a-number"}, "to"),
        ({"cursor": "c" * 65}, "cursor"),
    ],
)
def test_a_bad_query_parameter_is_a_400_naming_it(
    api: NativeApi, params: dict[str, Any], field: str
) -> None:
    refused = api.list(**params)
    assert refused.status_code == 400
    assert refused.json()["field"] == field


def test_limit_caps_the_page(api: NativeApi, clock: Any) -> None:
    start_several(api, clock, 3)
    assert len(api.list(limit=1).json()["verifications"]) == 1
    assert len(api.list(limit=100).json()["verifications"]) == 3
