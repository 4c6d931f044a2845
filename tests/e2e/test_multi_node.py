"""Two `otpgate serve` nodes (separate processes, ports and data dirs, the same secret key)
on one PostgreSQL database: every guarantee of one node holds across both."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from support.native import NativeApi
from support.numbers import new_mobile
from support.postgres import PostgresDatabases
from support.served import ServedOtpgate, launch

pytestmark = pytest.mark.e2e

SECRET_KEY = "multi-node-secret-key-0123456789abcdefgh"
ADMIN_TOKEN = "multi-node-admin-token-0123456789"
_names = itertools.count()


@dataclass
class TwoNodes:
    a: ServedOtpgate
    b: ServedOtpgate

    def new_app(self, **settings: Any) -> tuple[NativeApi, NativeApi]:
        """One app, as node A and as node B see it (same key)."""
        created = self.a.http.post(
            "/v1/apps",
            json={"name": f"nodes-{next(_names)}", "settings": settings},
            headers=self.a.admin_headers,
        )
        assert created.status_code == 201, created.text
        app_id = created.json()["id"]
        key = self.a.http.post(f"/v1/apps/{app_id}/keys", headers=self.a.admin_headers)
        headers = {"Authorization": f"Bearer {key.json()['api_key']}"}
        return NativeApi(self.a.http, headers), NativeApi(self.b.http, headers)


@pytest.fixture(scope="module")
def nodes(
    tmp_path_factory: pytest.TempPathFactory, postgres_databases: PostgresDatabases
) -> Iterator[TwoNodes]:
    root = tmp_path_factory.mktemp("nodes")
    with postgres_databases.fresh(migrated=False) as url:
        shared = {
            "OTPGATE_DATABASE_URL": url,
            "OTPGATE_DATABASE_POOL_SIZE": "8",
            "OTPGATE_SECRET_KEY": SECRET_KEY,
            "OTPGATE_ADMIN_TOKEN": ADMIN_TOKEN,
        }
        a = launch(root / "a" / "data", _log(root, "a"), **shared)
        try:
            b = launch(root / "b" / "data", _log(root, "b"), **shared)
        except BaseException:
            a.stop()
            raise
        a.first_start = b.first_start = {"admin_token": ADMIN_TOKEN}
        yield TwoNodes(a, b)
        a.stop()
        b.stop()


def _log(root: Path, name: str) -> Path:
    (root / name).mkdir()
    return root / name / "serve.log"


async def all_at_once(
    requests: list[tuple[str, str, dict[str, Any]]], headers: dict[str, str]
) -> list[httpx.Response]:
    """POST each (base url, path, body), each on its own connection, all in flight together."""
    limits = httpx.Limits(max_connections=len(requests), max_keepalive_connections=0)
    async with httpx.AsyncClient(headers=headers, limits=limits, timeout=60) as http:
        ready = asyncio.Event()

        async def send(url: str, path: str, body: dict[str, Any]) -> httpx.Response:
            await ready.wait()
            return await http.post(url + path, json=body)

        tasks = [asyncio.create_task(send(*request)) for request in requests]
        await asyncio.sleep(0)
        ready.set()
        return await asyncio.gather(*tasks)


def checks_split(nodes: TwoNodes, verification_id: str, codes: list[str]) -> list[Any]:
    path = f"/v1/verifications/{verification_id}/check"
    urls = itertools.cycle([nodes.a.url, nodes.b.url])
    return [(url, path, {"code": code}) for url, code in zip(urls, codes, strict=False)]


def outcomes(answers: list[httpx.Response]) -> Counter[tuple[int, str]]:
    found: Counter[tuple[int, str]] = Counter()
    for answer in answers:
        body = answer.json()
        status = body["status"] if answer.status_code == 200 else body.get("verification_status")
        found[(answer.status_code, status)] += 1
    return found


def test_120_wrong_codes_split_across_two_nodes_count_exactly_max_attempts(
    nodes: TwoNodes,
) -> None:
    on_a, on_b = nodes.new_app()
    verification = on_a.started()
    code = on_a.code_of(verification)
    wrong = [f"{n:06d}" for n in range(121) if f"{n:06d}" != code][:120]
    answers = asyncio.run(all_at_once(checks_split(nodes, verification["id"], wrong), on_a.headers))
    observed = outcomes(answers)
    print(f"\n120 wrong codes over two nodes: {dict(observed)}")
    assert observed == {(200, "pending"): 4, (200, "locked"): 1, (409, "locked"): 115}
    after = on_b.get(verification["id"]).json()
    assert (after["status"], after["attempts"]) == ("locked", 5)


def test_60_right_codes_split_across_two_nodes_approve_exactly_once(nodes: TwoNodes) -> None:
    on_a, on_b = nodes.new_app(max_attempts=20)
    verification = on_b.started()
    code = on_b.code_of(verification)
    answers = asyncio.run(
        all_at_once(checks_split(nodes, verification["id"], [code] * 60), on_a.headers)
    )
    observed = outcomes(answers)
    print(f"\n60 right codes over two nodes: {dict(observed)}")
    assert observed == {(200, "approved"): 1, (409, "approved"): 59}
    after = on_a.get(verification["id"]).json()
    assert (after["status"], after["attempts"]) == ("approved", 1)


def test_a_code_sent_by_node_a_is_checked_on_node_b(nodes: TwoNodes) -> None:
    on_a, on_b = nodes.new_app()
    verification = on_a.started()
    code = on_a.code_of(verification)
    checked = on_b.check(verification["id"], code)
    assert checked.status_code == 200, checked.text
    assert checked.json()["status"] == "approved"
    assert on_a.get(verification["id"]).json()["status"] == "approved"


def test_an_idempotency_key_replayed_on_the_other_node_gets_the_same_answer(
    nodes: TwoNodes,
) -> None:
    on_a, on_b = nodes.new_app(resend_cooldown_seconds=0)
    body = {"to": new_mobile(), "idempotency_key": "order-42"}
    first = on_a.start(**body)
    again = on_b.start(**body)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert on_b.get(first.json()["id"]).json()["sends"] == 1
    other = on_b.start(to=body["to"], idempotency_key="order-42", reference="changed")
    assert (other.status_code, other.json()["code"]) == (409, "idempotency_conflict")


def test_concurrent_creates_with_one_idempotency_key_on_both_nodes_make_one_verification(
    nodes: TwoNodes,
) -> None:
    on_a, _ = nodes.new_app(resend_cooldown_seconds=0)
    body = {"to": new_mobile(), "idempotency_key": "checkout-9"}
    urls = itertools.islice(itertools.cycle([nodes.a.url, nodes.b.url]), 30)
    answers = asyncio.run(
        all_at_once([(url, "/v1/verifications", body) for url in urls], on_a.headers)
    )
    assert Counter(answer.status_code for answer in answers) == {201: 30}
    assert len({answer.text for answer in answers}) == 1
    assert on_a.get(answers[0].json()["id"]).json()["sends"] == 1


def test_the_resend_cooldown_holds_across_nodes(nodes: TwoNodes) -> None:
    on_a, on_b = nodes.new_app(resend_cooldown_seconds=60, max_sends=5)
    to = new_mobile()
    first = on_a.start(to=to)
    assert first.status_code == 201, first.text
    resent = on_b.start(to=to)
    assert resent.status_code == 429, resent.text
    assert 0 < int(resent.headers["Retry-After"]) <= 60
    assert on_a.get(first.json()["id"]).json()["sends"] == 1


def test_concurrent_resends_split_across_nodes_send_at_most_max_sends(nodes: TwoNodes) -> None:
    """The pending row is locked while one node re-sends it, so no two nodes both pass the
    max_sends check on the same count."""
    on_a, on_b = nodes.new_app(resend_cooldown_seconds=0, max_sends=5)
    to = new_mobile()
    urls = itertools.islice(itertools.cycle([nodes.a.url, nodes.b.url]), 40)
    answers = asyncio.run(
        all_at_once([(url, "/v1/verifications", {"to": to}) for url in urls], on_a.headers)
    )
    observed = Counter(answer.status_code for answer in answers)
    print(f"\n40 creates for one number over two nodes: {dict(observed)}")
    assert observed == {201: 1, 200: 4, 429: 35}
    assert sorted(a.json()["sends"] for a in answers if a.status_code in (200, 201)) == [
        1, 2, 3, 4, 5,
    ]  # fmt: skip
    assert [v["sends"] for v in on_b.list(to=to).json()["verifications"]] == [5]
