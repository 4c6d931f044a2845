"""Concurrent creates for one number against the real server: one verification, and never
more messages than max_sends (each one costs an SMS)."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter

import httpx
import pytest
from support.numbers import new_mobile
from support.outbox import code_in, wait_for_messages
from support.served import ServedOtpgate

pytestmark = pytest.mark.e2e

_names = itertools.count()


async def create_all_at_once(
    url: str, headers: dict[str, str], bodies: list[dict[str, str]]
) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=len(bodies), max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=60) as http:
        ready = asyncio.Event()

        async def create(body: dict[str, str]) -> httpx.Response:
            await ready.wait()
            return await http.post("/v1/verifications", json=body)

        tasks = [asyncio.create_task(create(body)) for body in bodies]
        await asyncio.sleep(0)
        ready.set()
        return await asyncio.gather(*tasks)


@pytest.fixture(params=["1 process", "2 processes"])
def server(request: pytest.FixtureRequest, engine_settings: object) -> ServedOtpgate:
    """One or two processes, on each engine (`engine_settings` is named here so that pytest
    parametrises the test by engine)."""
    served: ServedOtpgate = request.getfixturevalue(
        "otpgate" if request.param == "1 process" else "two_processes"
    )
    return served


def test_40_concurrent_creates_for_one_number_send_at_most_max_sends(
    server: ServedOtpgate,
) -> None:
    api = server.new_app(f"creates-{next(_names)}", resend_cooldown_seconds=0, max_sends=5)
    to = new_mobile()
    answers = asyncio.run(create_all_at_once(server.url, api.headers, [{"to": to}] * 40))
    observed = Counter(answer.status_code for answer in answers)
    print(f"\n40 concurrent creates for one number: {dict(observed)}")
    assert observed == {201: 1, 200: 4, 429: 35}
    assert {a.json()["id"] for a in answers if a.status_code in (200, 201)} == {
        a.json()["id"] for a in answers if a.status_code == 201
    }
    assert sorted(a.json()["sends"] for a in answers if a.status_code in (200, 201)) == [
        1, 2, 3, 4, 5,
    ]  # fmt: skip
    assert all(a.headers["Retry-After"] for a in answers if a.status_code == 429)
    messages = wait_for_messages(server.http, api.headers, to, count=5)
    assert len(messages) == 5
    assert len({code_in(m["body"]) for m in messages}) == 1  # one code, sent five times


def test_concurrent_creates_with_one_idempotency_key_make_one_verification(
    server: ServedOtpgate,
) -> None:
    api = server.new_app(f"idempotent-{next(_names)}", resend_cooldown_seconds=0)
    body = {"to": new_mobile(), "idempotency_key": "checkout-7"}
    answers = asyncio.run(create_all_at_once(server.url, api.headers, [body] * 30))
    observed = Counter(answer.status_code for answer in answers)
    print(f"\n30 concurrent creates with one idempotency key: {dict(observed)}")
    assert observed == {201: 30}
    assert len({answer.text for answer in answers}) == 1
    assert api.get(answers[0].json()["id"]).json()["sends"] == 1
