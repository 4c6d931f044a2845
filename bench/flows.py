"""Verification flows per second (start, read the code from the outbox, check it) against
real `otpgate serve` processes: SQLite, PostgreSQL with one node, and with two nodes.

    .venv/bin/python bench/flows.py [--flows 400] [--concurrency 16]

Needs the PostgreSQL server the tests use (OTPGATE_TEST_POSTGRES_URL); makes and drops its
own databases. Prints one line per set-up, side by side.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import re
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from run import BENCH_APP_SETTINGS  # noqa: E402
from support.postgres import PostgresDatabases  # noqa: E402
from support.served import ServedOtpgate, launch  # noqa: E402

SECRET_KEY = "bench-secret-key-0123456789abcdefghijklmnop"
ADMIN_TOKEN = "bench-admin-token-0123456789"
_CODE = re.compile(r"\b([0-9]{4,10})\b[^0-9]*$")


async def one_flow(http: httpx.AsyncClient, url: str, headers: dict[str, str], to: str) -> None:
    started = await http.post(f"{url}/v1/verifications", json={"to": to}, headers=headers)
    assert started.status_code == 201, started.text
    verification_id = started.json()["id"]
    while True:
        found = await http.get(f"{url}/v1/dev/outbox", params={"to": to}, headers=headers)
        messages = [
            message
            for message in found.json()["messages"]
            if message["verification_id"] == verification_id
        ]
        if messages:
            break
        await asyncio.sleep(0.005)
    code = _CODE.search(messages[0]["body"])
    assert code is not None
    checked = await http.post(
        f"{url}/v1/verifications/{verification_id}/check",
        json={"code": code.group(1)},
        headers=headers,
    )
    assert checked.json()["status"] == "approved", checked.text


async def run_flows(
    urls: list[str], headers: dict[str, str], flows: int, workers: int, first: int
) -> float:
    numbers = iter(f"+44791{n:07d}" for n in range(first, first + flows))
    nodes = itertools.cycle(urls)  # as a round-robin load balancer would
    limits = httpx.Limits(max_connections=workers * 2)
    async with httpx.AsyncClient(limits=limits, timeout=60) as http:

        async def client() -> None:
            for to in numbers:
                await one_flow(http, next(nodes), headers, to)

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(workers)))
        return flows / (time.perf_counter() - started)


def start_nodes(root: Path, count: int, settings: dict[str, str]) -> list[ServedOtpgate]:
    shared = {
        **settings,
        "OTPGATE_SECRET_KEY": SECRET_KEY,
        "OTPGATE_ADMIN_TOKEN": ADMIN_TOKEN,
        "OTPGATE_LOG_LEVEL": "warning",
        "OTPGATE_FLOOD_REQUESTS_PER_MINUTE": "10000000",
    }
    nodes = []
    for n in range(count):
        (root / f"node-{n}").mkdir(parents=True)
        nodes.append(launch(root / f"node-{n}" / "data", root / f"node-{n}" / "log", **shared))
    return nodes


def api_key(node: ServedOtpgate) -> dict[str, str]:
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    # every abuse limit on, its thresholds out of a load test's way, as in run.py
    app = node.http.post(
        "/v1/apps", json={"name": "bench", "settings": BENCH_APP_SETTINGS}, headers=admin
    ).json()
    key = node.http.post(f"/v1/apps/{app['id']}/keys", headers=admin).json()
    return {"Authorization": f"Bearer {key['api_key']}"}


def measure(root: Path, count: int, settings: dict[str, str], flows: int, workers: int) -> float:
    nodes = start_nodes(root, count, settings)
    try:
        headers = api_key(nodes[0])
        urls = [node.url for node in nodes]
        asyncio.run(run_flows(urls, headers, workers, workers, 1))  # warm-up
        return asyncio.run(run_flows(urls, headers, flows, workers, 100_000))
    finally:
        for node in nodes:
            node.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--flows", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=16)
    options = parser.parse_args()
    databases = PostgresDatabases().start()
    results = {}
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as cleanup:
        root = Path(tmp)
        results["SQLite, 1 node"] = measure(
            root / "sqlite", 1, {}, options.flows, options.concurrency
        )
        for count in (1, 2):
            url = cleanup.enter_context(databases.fresh(migrated=False))
            settings = {"OTPGATE_DATABASE_URL": url}
            results[f"PostgreSQL, {count} node{'s' if count > 1 else ''}"] = measure(
                root / f"pg-{count}", count, settings, options.flows, options.concurrency
            )
    databases.stop()
    print(f"{options.flows} flows (start, read code, check), {options.concurrency} clients:")
    print("  ".join(f"{name}: {rate:.0f} flows/s" for name, rate in results.items()))


if __name__ == "__main__":
    main()
