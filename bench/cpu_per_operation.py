"""CPU microseconds per start, check and delivered message, measured in-process on SQLite.

A busy machine makes requests per second move with the neighbours' load; the CPU time one
operation takes (time.process_time over many, through the same executor the server uses,
32 at a time) does not, so this is the figure to compare before and after a change. `start`,
`check` and `deliver` are the service, store and delivery costs behind a route; `http check`
is a whole check request through the ASGI app (every middleware, the route, the JSON answer),
called as a server calls it, without a server's protocol or a client.

    .venv/bin/python bench/cpu_per_operation.py [--count 2000]
        [--profile start|check|deliver|http-check]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import logging
import pstats
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import structlog

from otpgate.config import Settings
from otpgate.runtime import Runtime, build_runtime, migrate
from otpgate.server import create_app
from otpgate.service.verifications import StartRequest

BENCH_APP_SETTINGS = {
    "max_attempts": 20,
    "sends_per_app_minute": 1_000_000,
    "messages_per_day": 100_000_000,
    "messages_per_country_day": 100_000_000,
    "fraud_guard": False,
}
CONCURRENCY = 32


async def http_request(app: object, path: str, body: bytes, authorization: bytes) -> int:
    """One POST through the ASGI app, as a server hands it over; returns the status."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1"),
            (b"authorization", authorization),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    sent = False
    status = 0

    async def receive() -> dict:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)  # type: ignore[operator]
    return status


async def in_flight(calls: list[Callable[[], Awaitable[object]]]) -> None:
    """Run the calls CONCURRENCY at a time, as a loaded server would."""
    for first in range(0, len(calls), CONCURRENCY):
        await asyncio.gather(*(call() for call in calls[first : first + CONCURRENCY]))


def measure(
    runtime: Runtime, count: int, profile: str | None
) -> dict[str, tuple[float, float]]:
    """Per operation: its CPU microseconds, and those of them on the event loop's thread."""
    app = runtime.apps.create_app("bench", BENCH_APP_SETTINGS)
    authorization = f"Bearer {runtime.apps.create_key(app.id).api_key}".encode()
    asgi_app = create_app(runtime, deliver=False)
    numbers = [f"+44712{n:07d}" for n in range(count)]
    ids: list[str] = []
    gc.freeze()  # as the server's lifespan does after start-up
    figures: dict[str, float] = {}
    loop_figures: dict[str, float] = {}  # of which on the event loop's thread

    async def start(to: str) -> None:
        result = await runtime.run(lambda: runtime.verifications.start(app, StartRequest(to=to)))
        ids.append(result.verification.id)

    async def check(verification_id: str) -> None:
        await runtime.run(lambda: runtime.verifications.check(app, verification_id, "000000"))

    async def http_check(verification_id: str) -> None:
        path = f"/v1/verifications/{verification_id}/check"
        status = await http_request(asgi_app, path, b'{"code": "000000"}', authorization)
        assert status == 200, status

    async def deliver_all() -> None:
        while await runtime.worker.deliver_due():
            pass

    phases: list[tuple[str, Callable[[], Awaitable[None]]]] = [
        ("start", lambda: in_flight([lambda to=to: start(to) for to in numbers])),
        ("deliver", deliver_all),
        ("check", lambda: in_flight([lambda i=i: check(i) for i in list(ids)])),
        ("http check", lambda: in_flight([lambda i=i: http_check(i) for i in list(ids)])),
    ]
    for name, phase in phases:
        # the event loop's thread CPU only: the writer thread's turns are not its functions'
        profiler = (
            cProfile.Profile(time.thread_time) if name.replace(" ", "-") == profile else None
        )
        began, loop_began = time.process_time(), time.thread_time()
        if profiler is not None:
            profiler.enable()
        asyncio.run(phase())
        if profiler is not None:
            profiler.disable()
        figures[name] = (time.process_time() - began) / count * 1e6
        loop_figures[name] = (time.thread_time() - loop_began) / count * 1e6
        if profiler is not None:
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
    return {name: (figures[name], loop_figures[name]) for name in figures}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--profile", choices=["start", "check", "deliver", "http-check"])
    arguments = parser.parse_args()
    # a log line per message is the operator's choice, not the operation's cost
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    with tempfile.TemporaryDirectory() as directory:
        settings = Settings(
            data_dir=Path(directory), flood_requests_per_minute=10_000_000, _env_file=None
        )
        runtime = build_runtime(settings)
        migrate(runtime)
        try:
            figures = measure(runtime, arguments.count, arguments.profile)
        finally:
            runtime.close()
    for name, (micros, on_loop) in figures.items():
        print(f"{name:10} {micros:8.0f} us CPU per operation ({on_loop:.0f} on the event loop)")


if __name__ == "__main__":
    main()
