"""Abuse protection against `otpgate serve`: the flood limit keys on the real caller, not on
what a client writes in X-Forwarded-For; a Redis that dies mid-run is replaced by the
database without a failed request."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis
from support.minutes import fresh_minute
from support.numbers import new_mobile
from support.outbox import wait_for_messages
from support.served import StartOtpgate, free_port
from support.services import REDIS_URL, redis_prefix, require_redis

pytestmark = pytest.mark.e2e


def codes(served: object, forwarded: list[str]) -> list[int]:
    api = served.default_app()  # type: ignore[attr-defined]
    return [
        api.http.get(
            "/v1/verifications", headers={**api.headers, "X-Forwarded-For": value}
        ).status_code
        for value in forwarded
    ]


def test_x_forwarded_for_from_an_untrusted_peer_changes_nothing(
    start_otpgate: StartOtpgate,
) -> None:
    served = start_otpgate(OTPGATE_FLOOD_REQUESTS_PER_MINUTE="5")
    # from an address of its own: the start's health probes from 127.0.0.1 count too (every
    # path is flood-limited), and would take part of the burst's minute
    api = served.default_app()
    caller = httpx.Client(
        base_url=served.url, transport=httpx.HTTPTransport(local_address="127.0.0.2")
    )
    fresh_minute()
    spoofed = [f"203.0.113.{n}" for n in range(1, 8)]
    answers = [
        caller.get("/v1/verifications", headers={**api.headers, "X-Forwarded-For": value})
        for value in spoofed
    ]
    assert [answer.status_code for answer in answers] == [200] * 5 + [429] * 2
    refused = caller.get("/v1/verifications", headers=api.headers)
    caller.close()
    assert refused.status_code == 429
    assert refused.json()["limit"] == "flood_requests_per_minute"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    metrics = served.http.get("/metrics").text
    assert 'otpgate_rate_limited_total{app="-",limit="flood_requests_per_minute"} 3.0' in metrics


def test_behind_a_trusted_proxy_each_forwarded_caller_has_its_own_count(
    start_otpgate: StartOtpgate,
) -> None:
    served = start_otpgate(
        OTPGATE_FLOOD_REQUESTS_PER_MINUTE="5", OTPGATE_TRUSTED_PROXIES="10.0.0.0/8,127.0.0.1/32"
    )
    fresh_minute()
    assert codes(served, ["198.51.100.1"] * 5) == [200] * 5
    # the client wrote a first hop itself; the proxy appended the address it really saw
    assert codes(served, ["6.6.6.6, 198.51.100.1", "7.7.7.7, 198.51.100.1, 10.0.0.9"]) == [429] * 2
    assert codes(served, ["198.51.100.2"] * 5) == [200] * 5
    assert codes(served, ["2001:db8:5:5::1", "2001:db8:5:5::2"]) == [200] * 2


@pytest.fixture
def doomed_redis(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """A redis-server of this test's own, on a spare port, for the test to kill."""
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("redis-server is not installed")
        pytest.skip("redis-server is not installed (set CI to make this a failure)")
    port = free_port()
    command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
               "--appendonly", "no", "--dir", str(tmp_path)]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                process.kill()
                raise
            time.sleep(0.05)
    yield process, url
    if process.poll() is None:
        process.kill()
    process.wait()


def test_a_redis_that_dies_is_replaced_by_the_database_and_logged_once(
    start_otpgate: StartOtpgate, doomed_redis: tuple[subprocess.Popen[bytes], str]
) -> None:
    process, url = doomed_redis
    served = start_otpgate(OTPGATE_REDIS_URL=url, OTPGATE_REDIS_KEY_PREFIX="e2e:")
    api = served.new_app("redis-dies", sends_per_number_10min=2, resend_cooldown_seconds=0)
    to = new_mobile()
    assert api.start(to=to).status_code == 201
    assert redis.Redis.from_url(url).keys("e2e:sends_per_number_10min:*")  # counted in Redis

    process.kill()
    process.wait()
    # the database starts its own count: two more sends, then its limit refuses
    answers = [api.start(to=to).status_code for _ in range(3)]
    assert answers == [200, 200, 429]
    assert [api.start().status_code for _ in range(5)] == [201] * 5
    assert served.http.get("/readyz").status_code == 200

    logged = [line for line in served.logs().splitlines() if "redis_unreachable" in line]
    assert len(logged) == 1, logged
    metrics = served.http.get("/metrics").text
    assert "otpgate_counter_store_fallbacks_total 1.0" in metrics


async def send_all_at_once(url: str, headers: dict[str, str], count: int, to: str) -> list[int]:
    limits = httpx.Limits(max_connections=count, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=60) as http:
        ready = asyncio.Event()

        async def send() -> int:
            await ready.wait()
            return (await http.post("/v1/verifications", json={"to": to})).status_code

        tasks = [asyncio.create_task(send()) for _ in range(count)]
        await asyncio.sleep(0)
        ready.set()
        return list(await asyncio.gather(*tasks))


@pytest.mark.parametrize("counters", ["database", "redis"])
def test_two_processes_share_one_count(start_otpgate: StartOtpgate, counters: str) -> None:
    settings = {}
    if counters == "redis":
        require_redis()
        settings = {"OTPGATE_REDIS_URL": REDIS_URL, "OTPGATE_REDIS_KEY_PREFIX": redis_prefix()}
    served = start_otpgate("--workers", "2", **settings)
    api = served.new_app(
        f"shared-{counters}", sends_per_number_10min=5, max_sends=20, resend_cooldown_seconds=0
    )
    to = new_mobile()
    answers = asyncio.run(send_all_at_once(served.url, api.headers, 40, to))
    print(f"\n40 concurrent sends to one number, two processes, {counters}: {sorted(answers)}")
    assert sorted(answers) == [200] * 4 + [201] + [429] * 35
    assert len(wait_for_messages(served.http, api.headers, to, count=5)) == 5
