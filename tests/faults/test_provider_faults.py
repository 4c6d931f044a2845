"""Fault 4: the SMS gateway answers too slowly (past the sender's timeout), answers 5xx, cuts
the connection mid-answer, then flaps between up and down, all under load. Every message is
delivered once it is back, nothing goes out after its verification ended, and /metrics shows
the circuit breaker open while the gateway fails and closed once it is back."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from peers.faulty_gateway import FaultyGateway
from peers.otpgate import wait_until
from support.fault_load import (
    MAX_ATTEMPTS,
    START_TIMEOUT_SECONDS,
    VerificationLoad,
    acknowledged_ids,
    fault_settings,
    final_state,
    load_app,
    wait_for_answers,
)
from support.history import History, check
from support.served import launch

pytestmark = pytest.mark.e2e

PHASE_SECONDS = 2.0  # slow, then 5xx, then cut answers
# the minute in `make soak`; a fifth of it in `make test`
FLAP_SECONDS = float(os.environ.get("OTPGATE_FAULTS_FLAP_SECONDS", "12"))
OPEN = 'otpgate_provider_circuit_open{provider="http"} 1.0'
CLOSED = 'otpgate_provider_circuit_open{provider="http"} 0.0'


def test_a_slow_failing_cut_and_flapping_gateway_loses_no_message(
    tmp_path: Path, record_property: object
) -> None:
    gateway = FaultyGateway(slow_seconds=3.0, flap_seconds=1.5).start()
    settings = fault_settings(
        gateway,
        OTPGATE_HTTP_TIMEOUT_SECONDS="1",  # the slow gateway answers after 3 s
        OTPGATE_DELIVERY_RETRY_BASE_SECONDS="0.3",
        OTPGATE_CIRCUIT_FAILURE_THRESHOLD="5",
    )
    served = launch(
        tmp_path / "data", tmp_path / "serve.log", start_timeout=START_TIMEOUT_SECONDS, **settings
    )
    headers = load_app(served.http)
    history = History()
    load = VerificationLoad(served.url, headers, history, gateway).start()
    try:
        wait_for_answers(history, 20, after=0, timeout=30)
        for mode in ("slow", "error", "cut"):
            gateway.mode = mode
            if mode == "error":
                wait_until(_metrics(served.http), lambda text: OPEN in text, 15, what="open")
            time.sleep(PHASE_SECONDS)  # the fault lasts this long under load
        gateway.mode = "flap"
        time.sleep(FLAP_SECONDS)
        gateway.mode = "up"
        wait_for_answers(history, 20, after=time.monotonic(), timeout=30)
    finally:
        load.stop()
    try:
        final, messages = final_state(served.http, headers, acknowledged_ids(history))
        wait_until(_metrics(served.http), lambda text: CLOSED in text, 30, what="closed")
    finally:
        served.stop()
        gateway.stop()

    verdict = check(history, final, gateway.deliveries(), messages, max_attempts=MAX_ATTEMPTS)
    rounds = 3 + int(FLAP_SECONDS / 1.5)  # each phase, and each down of the flapping
    row = verdict.row(f"SMS gateway slow, 5xx, cut, flapping {FLAP_SECONDS:.0f} s", rounds)
    print(row, f"{gateway.refused} refused; taken while {gateway.taken_by_mode()}")
    record_property("reliability", row)  # type: ignore[operator]
    assert verdict.violations == [], "\n".join(verdict.violations)
    assert gateway.refused > 0


def _metrics(http: httpx.Client) -> Callable[[], str]:
    return lambda: http.get("/metrics").text
