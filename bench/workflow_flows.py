"""Two-step workflow flows against a running `otpgate serve`: start with the workflow
[whatsapp 15 s, sms], ask for the next step at once (`/next`), read the SMS from the
developer outbox, check its code. run.py's workflow phase; its figure is flows per second
and the server's CPU per flow (the outbox polls included)."""

from __future__ import annotations

import asyncio
import re
import statistics
import time

import httpx

WORKFLOW = [{"channel": "whatsapp", "timeout_seconds": 15}, {"channel": "sms"}]
_CODE = re.compile(r"\b([0-9]{4,10})\b[^0-9]*$")
FIRST_NUMBER = 2_000_000  # +44792…: a range no other phase of the bench uses


async def one_flow(http: httpx.AsyncClient, headers: dict[str, str], to: str) -> None:
    started = await http.post("/v1/verifications", json={"to": to, "workflow": WORKFLOW},
                              headers=headers)  # fmt: skip
    assert started.status_code == 201, started.text
    verification_id = started.json()["id"]
    moved = await http.post(f"/v1/verifications/{verification_id}/next", headers=headers)
    assert moved.status_code == 200 and moved.json()["channel"] == "sms", moved.text
    while True:
        found = await http.get("/v1/dev/outbox", params={"to": to}, headers=headers)
        sms = [
            message
            for message in found.json()["messages"]
            if message["verification_id"] == verification_id and message["channel"] == "sms"
        ]
        if sms:
            break
        await asyncio.sleep(0.005)
    code = _CODE.search(sms[0]["body"])
    assert code is not None
    checked = await http.post(f"/v1/verifications/{verification_id}/check",
                              json={"code": code.group(1)}, headers=headers)  # fmt: skip
    assert checked.json()["status"] == "approved", checked.text


async def _run(port: int, api_key: str, flows: int, concurrency: int) -> dict:
    headers = {"Authorization": f"Bearer {api_key}"}
    numbers = iter(f"+4479{FIRST_NUMBER + n:08d}" for n in range(flows))
    took: list[float] = []
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=60
    ) as http:

        async def client() -> None:
            for to in numbers:
                began = time.perf_counter()
                await one_flow(http, headers, to)
                took.append(time.perf_counter() - began)

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(concurrency)))
        duration = time.perf_counter() - started
    took.sort()
    return {
        "flows": len(took),
        "duration_us": duration * 1e6,
        "flows_per_second": len(took) / duration,
        "p50_us": statistics.median(took) * 1e6,
        "p99_us": took[min(len(took) - 1, int(len(took) * 0.99))] * 1e6,
    }


def run(port: int, api_key: str, flows: int, concurrency: int) -> dict:
    return asyncio.run(_run(port, api_key, flows, concurrency))
