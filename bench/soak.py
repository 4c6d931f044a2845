"""Fault 6, the soak: 10⁶ verifications (start, read the code from the outbox, check it)
through the API of one `otpgate serve` on SQLite, deliveries and retention running. At each
10⁵ it prints the server's RSS, the p99 of its answers over that stretch and the database's
size; at the end it holds the run to docs/reliability.md's bounds: RSS growth after the
warm-up (the first stretch) at most 10 %, and p99 flat within 20 %.

Beside them, each stretch prints the server's CPU time per verification and the machine's
load average: on a machine others share, a stretch's p99 is mostly the longest pause the
machine gave the server (16 clients wait out one pause together), while the CPU a
verification costs is what would grow if the server itself slowed down.

    .venv/bin/python bench/soak.py [--verifications 1000000] [--every 100000] [--clients 16]

`make soak` runs it with the defaults (about an hour on two cores); exits 1 past a bound.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from support.served import ServedOtpgate, launch  # noqa: E402

SECRET_KEY = "soak-secret-key-0123456789abcdefghijklmnop"
ADMIN_TOKEN = "soak-admin-token-0123456789"
_CODE = re.compile(r"\b([0-9]{4,10})\b[^0-9]*$")

RSS_GROWTH_LIMIT = 0.10
P99_SPREAD_LIMIT = 0.20
SOAK_APP_SETTINGS = {
    "fraud_guard": False,
    "sends_per_ip_hour": 1_000_000,
    "checks_per_ip_hour": 1_000_000,
    "sends_per_app_minute": 1_000_000,
    "messages_per_day": 100_000_000,
    "messages_per_country_day": 100_000_000,
}


async def one_verification(
    http: httpx.AsyncClient, headers: dict[str, str], to: str, latencies: list[float]
) -> None:
    began = time.perf_counter()
    started = await http.post("/v1/verifications", json={"to": to}, headers=headers)
    latencies.append(time.perf_counter() - began)
    assert started.status_code == 201, started.text
    verification_id = started.json()["id"]
    while True:
        found = await http.get("/v1/dev/outbox", params={"to": to, "limit": 1}, headers=headers)
        messages = found.json()["messages"]
        if messages and messages[0]["verification_id"] == verification_id:
            break
        await asyncio.sleep(0.005)
    code = _CODE.search(messages[0]["body"])
    assert code is not None
    began = time.perf_counter()
    checked = await http.post(
        f"/v1/verifications/{verification_id}/check",
        json={"code": code.group(1)},
        headers=headers,
    )
    latencies.append(time.perf_counter() - began)
    assert checked.json()["status"] == "approved", checked.text


async def stretch(
    served: ServedOtpgate, headers: dict[str, str], first: int, count: int, clients: int
) -> list[float]:
    """`count` verifications by `clients` at once; the latencies of their starts and checks."""
    numbers = iter(f"+44791{n:07d}" for n in range(first, first + count))
    latencies: list[float] = []
    # a connection per request: one kept alive is closed by the server after 5 s idle
    # (uvicorn's keep-alive), and a request sent on it as it closes is reset (httpx.ReadError);
    # a client that the shared machine left without CPU for seconds met that mid-run
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=served.url, limits=limits, timeout=60) as http:

        async def client() -> None:
            for to in numbers:
                await one_verification(http, headers, to, latencies)

        await asyncio.gather(*(client() for _ in range(clients)))
    return latencies


def rss_megabytes(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def cpu_seconds(pid: int) -> float:
    """User and system time the process has used so far."""
    # /proc/PID/stat: fields 14 and 15 (utime, stime) in clock ticks, after the ")" of comm
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def database_megabytes(data_dir: Path) -> float:
    files = [data_dir / "otpgate.db", data_dir / "otpgate.db-wal"]
    return sum(path.stat().st_size for path in files if path.exists()) / 1_000_000


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--verifications", type=int, default=1_000_000)
    parser.add_argument("--every", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=16)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        served = launch(
            Path(tmp) / "data",
            Path(tmp) / "serve.log",
            start_timeout=120,
            OTPGATE_SECRET_KEY=SECRET_KEY,
            OTPGATE_ADMIN_TOKEN=ADMIN_TOKEN,
            OTPGATE_LOG_LEVEL="warning",
            OTPGATE_FLOOD_REQUESTS_PER_MINUTE="10000000",
            OTPGATE_RETENTION_SWEEP_SECONDS="60",  # retention sweeps all along
        )
        try:
            admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
            body = {"name": "soak", "settings": SOAK_APP_SETTINGS}
            app = served.http.post("/v1/apps", json=body, headers=admin).json()
            key = served.http.post(f"/v1/apps/{app['id']}/keys", headers=admin).json()
            headers = {"Authorization": f"Bearer {key['api_key']}"}
            rows: list[tuple[int, float, float]] = []
            print(
                "verifications   RSS MB   p99 ms   database MB   per second"
                "   server CPU ms per verification   load average",
                flush=True,
            )
            pid = served.process.pid
            for done in range(options.every, options.verifications + 1, options.every):
                began, cpu_began = time.perf_counter(), cpu_seconds(pid)
                latencies = asyncio.run(
                    stretch(served, headers, done - options.every, options.every, options.clients)
                )
                rate = options.every / (time.perf_counter() - began)
                cpu = (cpu_seconds(pid) - cpu_began) / options.every * 1000
                rss, tail = rss_megabytes(pid), p99(latencies) * 1000
                rows.append((done, rss, tail))
                size = database_megabytes(served.data_dir)
                print(
                    f"{done:>13}   {rss:6.1f}   {tail:6.1f}   {size:11.1f}   {rate:10.0f}"
                    f"   {cpu:30.2f}   {os.getloadavg()[0]:12.1f}",
                    flush=True,
                )
        except Exception:
            served.stop()
            print(f"the server's log, to its end:\n{served.logs()[-4000:]}", file=sys.stderr)
            raise
        else:
            served.stop()
    return verdict(rows)


def verdict(rows: list[tuple[int, float, float]]) -> int:
    """0 when the run stayed within the bounds; the first stretch is the warm-up."""
    if len(rows) < 3:
        print("too few stretches to judge (at least 3: the warm-up and two more)")
        return 1
    warm = rows[1:]
    growth = (warm[-1][1] - warm[0][1]) / warm[0][1]
    tails = [tail for _, _, tail in warm]
    spread = (max(tails) - min(tails)) / min(tails)
    print(
        f"RSS growth after warm-up {growth:+.1%} (limit {RSS_GROWTH_LIMIT:.0%}); "
        f"p99 spread {spread:.1%} (limit {P99_SPREAD_LIMIT:.0%})"
    )
    return 0 if growth <= RSS_GROWTH_LIMIT and spread <= P99_SPREAD_LIMIT else 1


if __name__ == "__main__":
    sys.exit(main())
