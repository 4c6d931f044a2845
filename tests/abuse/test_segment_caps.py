"""Spend caps count the segments a message is sent as, in its own encoding (UCS-2 included)."""

from __future__ import annotations

from collections.abc import Callable

from support.native import NativeApi
from support.numbers import israeli_e164, new_israeli_mobile

# pushes a Hebrew text (UCS-2, 70 units a segment) to two segments; an English one stays in one
LONG_DOMAIN = "a" * 30 + ".example"


def test_a_right_to_left_message_of_two_ucs2_segments_counts_two_against_the_cap(
    api_with: Callable[..., NativeApi],
) -> None:
    api = api_with(messages_per_day=3, webotp_domain=LONG_DOMAIN)
    hebrew = api.started(to=israeli_e164(new_israeli_mobile()))
    [message] = api.http.get(
        f"/v1/verifications/{hebrew['id']}/messages", headers=api.headers
    ).json()["messages"]
    assert (message["encoding"], message["segments"]) == ("ucs2", 2)
    refused = api.start(to=israeli_e164(new_israeli_mobile()))  # 2 + 2 would pass 3
    assert refused.status_code == 429 and refused.json()["limit"] == "messages_per_day"
    english = api.started()  # a UK number: one GSM-7 segment still fits
    [one] = api.http.get(f"/v1/verifications/{english['id']}/messages", headers=api.headers).json()[
        "messages"
    ]
    assert (one["encoding"], one["segments"]) == ("gsm7", 1)
