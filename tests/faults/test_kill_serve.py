"""Fault 1: `kill -9` of `otpgate serve` under load, at random moments, round after round; a
new process on the same data takes over. Nothing acknowledged is lost or done twice."""

from __future__ import annotations

import random
import time
from pathlib import Path

import httpx
import pytest
from peers.faulty_gateway import FaultyGateway
from support.fault_load import (
    MAX_ATTEMPTS,
    START_TIMEOUT_SECONDS,
    VerificationLoad,
    acknowledged_ids,
    fault_settings,
    final_state,
    load_app,
)
from support.history import History, check
from support.served import ServedOtpgate, free_port, launch

pytestmark = pytest.mark.e2e

ROUNDS = 20
# how long the load runs between a start and its kill: seconds, so each round is cheap
LOAD_SECONDS = (0.3, 1.5)


def test_kill_9_of_serve_under_load_loses_nothing_acknowledged(
    tmp_path: Path,
    gateway: FaultyGateway,
    engine_settings: dict[str, str],
    record_property: object,
) -> None:
    settings = fault_settings(gateway, **engine_settings)
    port = free_port()
    served = launch(
        tmp_path / "data",
        tmp_path / "serve-0.log",
        port=port,
        start_timeout=START_TIMEOUT_SECONDS,
        **settings,
    )
    headers = load_app(served.http)
    history = History()
    moments = random.Random(1)
    load = VerificationLoad(served.url, headers, history, gateway).start()
    restarts = 0.0
    try:
        for number in range(1, ROUNDS + 1):
            time.sleep(moments.uniform(*LOAD_SECONDS))  # the load runs; then, at once:
            restarting = time.monotonic()
            served = _kill_and_restart(served, tmp_path / f"serve-{number}.log", port, settings)
            restarts += time.monotonic() - restarting
    finally:
        load.stop()
    reading = time.monotonic()
    try:
        with httpx.Client(base_url=served.url, timeout=30) as http:
            final, messages = final_state(http, headers, acknowledged_ids(history))
    finally:
        served.stop()
    reading = time.monotonic() - reading

    verdict = check(history, final, gateway.deliveries(), messages, max_attempts=MAX_ATTEMPTS)
    row = verdict.row(f"kill -9 of serve ({_engine(engine_settings)})", ROUNDS)
    print(row, f"restarts took {restarts:.0f} s in all, the final read {reading:.0f} s")
    record_property("reliability", row)  # type: ignore[operator]
    assert verdict.violations == [], "\n".join(verdict.violations)
    assert len(acknowledged_ids(history)) > ROUNDS  # the load did run between the kills


def _kill_and_restart(
    served: ServedOtpgate, log_path: Path, port: int, settings: dict[str, str]
) -> ServedOtpgate:
    served.process.kill()
    served.process.wait()
    served.stop()
    return launch(
        served.data_dir, log_path, port=port, start_timeout=START_TIMEOUT_SECONDS, **settings
    )


def _engine(settings: dict[str, str]) -> str:
    return "PostgreSQL" if "OTPGATE_DATABASE_URL" in settings else "SQLite"
