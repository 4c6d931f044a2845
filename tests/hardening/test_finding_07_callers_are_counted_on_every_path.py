"""Finding 7: a forwarded-for hop with a port is its caller's address (not a bucket per port),
every path is flood-limited (the vendor paths too), and repeated failed authentications from
one address are answered 429 with Retry-After (in the vendor's shape on a vendor route)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from support.minutes import fresh_minute
from support.served import ServedOtpgate, serving

FLOOD = 50  # requests a minute per caller; the local batch is one request at this size
FAILURES = 5
# twice a limit and more: the limit is passed within the burst's window
FLOOD_TRIES = 2 * FLOOD + 2
FAILURE_TRIES = 2 * FAILURES + 2
_callers = (f"203.0.113.{number}" for number in itertools.count(1))


@pytest.fixture(autouse=True)
def well_inside_a_minute() -> None:
    """Windows are whole clock minutes (the refusal is the next request's)."""
    fresh_minute()


@pytest.fixture(scope="module")
def flooded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedOtpgate]:
    """A low flood limit; failed authentications are not what it tests."""
    with serving(
        tmp_path_factory.mktemp("flooded"),
        OTPGATE_TRUSTED_PROXIES="127.0.0.1/32",
        OTPGATE_FLOOD_REQUESTS_PER_MINUTE=str(FLOOD),
        OTPGATE_FAILED_AUTHENTICATIONS_PER_MINUTE="1000",
    ) as served:
        yield served


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedOtpgate]:
    """The default flood limit, a low limit of failed authentications."""
    with serving(
        tmp_path_factory.mktemp("guarded"),
        OTPGATE_TRUSTED_PROXIES="127.0.0.1/32",
        OTPGATE_FAILED_AUTHENTICATIONS_PER_MINUTE=str(FAILURES),
    ) as served:
        yield served


@pytest.mark.parametrize(
    "written",
    ["{address}:{port}", "[2001:db8:{number}::1]:{port}", "[2001:db8:{number}::2]"],
)
def test_a_hop_written_with_a_port_is_one_caller(flooded: ServedOtpgate, written: str) -> None:
    address = next(_callers)
    statuses = [
        flooded.http.get(
            "/healthz",
            headers={
                "X-Forwarded-For": written.format(
                    address=address, number=address.rsplit(".")[-1], port=40000 + attempt
                )
            },
        ).status_code
        for attempt in range(FLOOD_TRIES)
    ]
    assert statuses[0] == 200 and statuses[-1] == 429, statuses


@pytest.mark.parametrize(
    "path",
    [
        "/priv/v1/apps/x/messaging_events/sms/validation/request",
        "/webapi/verify",
        "/sms/verifySMS",
        "/process/continue",
        "/healthz",
    ],
)
def test_every_path_is_flood_limited(flooded: ServedOtpgate, path: str) -> None:
    caller = {"X-Forwarded-For": next(_callers)}
    answers = [flooded.http.post(path, headers=caller) for _ in range(FLOOD_TRIES)]
    assert "Retry-After" not in answers[0].headers
    # in the vendor's own shape (sessionm answers refusals 400, 99 digital and IDResponse
    # 200 with a FAIL result): never a 5xx
    assert answers[-1].status_code in (200, 400, 429), answers[-1].text
    assert 1 <= int(answers[-1].headers["Retry-After"]) <= 60


def test_repeated_failed_authentications_are_answered_429(served: ServedOtpgate) -> None:
    caller = {"X-Forwarded-For": next(_callers)}
    wrong = {**caller, "Authorization": "Bearer key_nothere.wrong"}
    statuses = [
        served.http.get("/v1/verifications", headers=wrong).status_code
        for _ in range(FAILURE_TRIES)
    ]
    assert statuses[:FAILURES] == [401] * FAILURES, statuses
    assert statuses[-1] == 429, statuses
    refused = served.http.get(
        "/v1/verifications", headers={**caller, **served.default_app().headers}
    )
    assert refused.status_code == 429  # even a right key, from this address, this minute
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.json()["limit"] == "failed_authentications_per_minute"
    # another address is not held for this one's failures
    other = {"X-Forwarded-For": next(_callers), **served.default_app().headers}
    assert served.http.get("/v1/verifications", headers=other).status_code == 200


def test_failed_authentications_on_a_vendor_route_are_refused_in_its_shape(
    served: ServedOtpgate,
) -> None:
    caller = {"X-Forwarded-For": next(_callers)}
    statuses = [
        served.http.post(
            "/webapi/verify/sendcode", auth=("nobody", "wrong"), json={}, headers=caller
        )
        for _ in range(FAILURE_TRIES)
    ]
    assert [answer.status_code for answer in statuses[:FAILURES]] == [401] * FAILURES
    assert statuses[-1].status_code == 429
    assert statuses[-1].text == "Too Many Requests"  # dotdigital's plain-text refusals
    assert "Retry-After" in statuses[-1].headers
