"""`every`: the loop behind the retention job, the expiry sweep and the worker's upkeep."""

from __future__ import annotations

import asyncio

import structlog
from structlog.testing import capture_logs

from otpgate.delivery.periodic import every


def test_a_failed_run_is_logged_and_the_next_run_still_comes() -> None:
    runs: list[int] = []

    async def main() -> None:
        stop = asyncio.Event()

        async def work() -> None:
            runs.append(len(runs))
            if len(runs) == 1:
                raise RuntimeError("database hiccup")
            stop.set()

        await every(0.01, stop, work, structlog.get_logger("test"), "job_error")

    with capture_logs() as logs:
        asyncio.run(main())
    assert runs == [0, 1]
    assert [entry["event"] for entry in logs] == ["job_error"]


def test_a_stop_during_the_wait_ends_it_without_another_run() -> None:
    runs: list[int] = []

    async def main() -> None:
        stop, ran = asyncio.Event(), asyncio.Event()

        async def work() -> None:
            runs.append(1)
            ran.set()

        job = asyncio.ensure_future(every(3600, stop, work, structlog.get_logger("test"), "e"))
        await ran.wait()  # the first run, at once
        stop.set()
        await asyncio.wait_for(job, 5)

    asyncio.run(main())
    assert runs == [1]
