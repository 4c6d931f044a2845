"""CPU microseconds per start, check and delivered message, measured in-process on SQLite.

A busy machine makes requests per second move with the neighbours' load; the CPU time one
operation takes (time.process_time over many, through the same executor the server uses,
32 at a time) does not, so this is the figure to compare before and after a change. The HTTP
layer is left out: these are the service, store and delivery costs behind a route.

    .venv/bin/python bench/cpu_per_operation.py [--count 2000] [--profile start|check|deliver]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import logging
import pstats
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import structlog

from otpgate.config import Settings
from otpgate.runtime import Runtime, build_runtime, migrate
from otpgate.service.verifications import StartRequest

BENCH_APP_SETTINGS = {
    "max_attempts": 20,
    "sends_per_app_minute": 1_000_000,
    "messages_per_day": 100_000_000,
    "messages_per_country_day": 100_000_000,
    "fraud_guard": False,
}
CONCURRENCY = 32


async def in_flight(calls: list[Callable[[], Awaitable[object]]]) -> None:
    """Run the calls CONCURRENCY at a time, as a loaded server would."""
    for first in range(0, len(calls), CONCURRENCY):
        await asyncio.gather(*(call() for call in calls[first : first + CONCURRENCY]))


def measure(runtime: Runtime, count: int, profile: str | None) -> dict[str, float]:
    app = runtime.apps.create_app("bench", BENCH_APP_SETTINGS)
    numbers = [f"+44712{n:07d}" for n in range(count)]
    ids: list[str] = []
    figures: dict[str, float] = {}

    async def start(to: str) -> None:
        result = await runtime.run(lambda: runtime.verifications.start(app, StartRequest(to=to)))
        ids.append(result.verification.id)

    async def check(verification_id: str) -> None:
        await runtime.run(lambda: runtime.verifications.check(app, verification_id, "000000"))

    async def deliver_all() -> None:
        while await runtime.worker.deliver_due():
            pass

    phases: list[tuple[str, Callable[[], Awaitable[None]]]] = [
        ("start", lambda: in_flight([lambda to=to: start(to) for to in numbers])),
        ("deliver", deliver_all),
        ("check", lambda: in_flight([lambda i=i: check(i) for i in list(ids)])),
    ]
    for name, phase in phases:
        profiler = cProfile.Profile() if name == profile else None
        began = time.process_time()
        if profiler is not None:
            profiler.enable()
        asyncio.run(phase())
        if profiler is not None:
            profiler.disable()
        figures[name] = (time.process_time() - began) / count * 1e6
        if profiler is not None:
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--profile", choices=["start", "check", "deliver"])
    arguments = parser.parse_args()
    # a log line per message is the operator's choice, not the operation's cost
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    with tempfile.TemporaryDirectory() as directory:
        settings = Settings(data_dir=Path(directory), _env_file=None)
        runtime = build_runtime(settings)
        migrate(runtime)
        try:
            figures = measure(runtime, arguments.count, arguments.profile)
        finally:
            runtime.close()
    for name, micros in figures.items():
        print(f"{name:8} {micros:8.0f} us CPU per operation")


if __name__ == "__main__":
    main()
