"""Concurrent checks against the real server process over real parallel connections: a
verification counts at most max_attempts wrong codes and approves at most once."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from typing import Any

import httpx
import pytest
from support.native import NativeApi
from support.served import ServedOtpgate

pytestmark = pytest.mark.e2e

_names = itertools.count()


async def check_all_at_once(
    url: str, headers: dict[str, str], verification_id: str, codes: list[str]
) -> list[httpx.Response]:
    """Send one check per code, each on its own connection, all in flight together."""
    limits = httpx.Limits(max_connections=len(codes), max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=60) as http:
        ready = asyncio.Event()

        async def check(code: str) -> httpx.Response:
            await ready.wait()
            return await http.post(
                f"/v1/verifications/{verification_id}/check", json={"code": code}
            )

        tasks = [asyncio.create_task(check(code)) for code in codes]
        await asyncio.sleep(0)  # every task is waiting on the same start signal
        ready.set()
        return await asyncio.gather(*tasks)


def outcomes(answers: list[httpx.Response]) -> Counter[tuple[int, str]]:
    """(HTTP status, verification status) of each answer."""
    found: Counter[tuple[int, str]] = Counter()
    for answer in answers:
        body: dict[str, Any] = answer.json()
        # a counted check answers the status; a refused one names it in the problem
        status = body["status"] if answer.status_code == 200 else body.get("verification_status")
        found[(answer.status_code, status)] += 1
    return found


def wrong_codes(right: str, count: int) -> list[str]:
    return [f"{n:06d}" for n in range(count + 1) if f"{n:06d}" != right][:count]


def new_verification(
    served: ServedOtpgate, **settings: Any
) -> tuple[NativeApi, dict[str, Any], str]:
    api = served.new_app(f"concurrency-{next(_names)}", **settings)
    verification = api.started()
    return api, verification, api.code_of(verification)


@pytest.fixture(params=["1 process", "2 processes"])
def server(request: pytest.FixtureRequest, otpgate: ServedOtpgate) -> ServedOtpgate:
    if request.param == "1 process":
        return otpgate
    served: ServedOtpgate = request.getfixturevalue("two_processes")
    return served


def test_120_concurrent_wrong_codes_count_exactly_max_attempts_then_lock(
    server: ServedOtpgate,
) -> None:
    api, verification, code = new_verification(server)
    answers = asyncio.run(
        check_all_at_once(server.url, api.headers, verification["id"], wrong_codes(code, 120))
    )
    observed = outcomes(answers)
    print(f"\n120 concurrent wrong codes: {dict(observed)}")
    assert observed == {(200, "pending"): 4, (200, "locked"): 1, (409, "locked"): 115}
    assert all(a.json()["valid"] is False for a in answers if a.status_code == 200)
    after = api.get(verification["id"]).json()
    assert (after["status"], after["attempts"]) == ("locked", 5)
    right = api.check(verification["id"], code)
    assert (right.status_code, right.json()["code"], right.json()["verification_status"]) == (
        409,
        "not_pending",
        "locked",
    )


def test_60_concurrent_right_codes_approve_exactly_once(server: ServedOtpgate) -> None:
    api, verification, code = new_verification(server, max_attempts=20)
    answers = asyncio.run(
        check_all_at_once(server.url, api.headers, verification["id"], [code] * 60)
    )
    observed = outcomes(answers)
    print(f"\n60 concurrent right codes: {dict(observed)}")
    assert observed == {(200, "approved"): 1, (409, "approved"): 59}
    assert sum(a.status_code == 200 and a.json()["valid"] is True for a in answers) == 1
    after = api.get(verification["id"]).json()
    assert (after["status"], after["attempts"]) == ("approved", 1)


def test_concurrent_right_and_wrong_codes_never_approve_after_the_lock(
    server: ServedOtpgate,
) -> None:
    api, verification, code = new_verification(server, max_attempts=3)
    codes = [c for wrong in wrong_codes(code, 40) for c in (wrong, code)]  # interleaved
    answers = asyncio.run(check_all_at_once(server.url, api.headers, verification["id"], codes))
    observed = outcomes(answers)
    print(f"\n40 wrong and 40 right codes at once: {dict(observed)}")
    approvals = observed[(200, "approved")]
    counted = sum(n for (status, _), n in observed.items() if status == 200)
    assert approvals <= 1
    assert counted <= 3
    final = api.get(verification["id"]).json()
    assert final["status"] == ("approved" if approvals else "locked")
    assert final["attempts"] == counted
