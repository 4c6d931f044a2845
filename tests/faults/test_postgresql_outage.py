"""Fault 2: PostgreSQL stopped for 5 s under load and started again, then every connection
of the service killed (`pg_terminate_backend`), on a cluster of the test's own. During the
outage the service answers 503 with Retry-After and /readyz fails; after it, the service
serves again within 5 s without a restart, and nothing acknowledged is lost."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from peers.faulty_gateway import FaultyGateway
from support.fault_load import (
    MAX_ATTEMPTS,
    START_TIMEOUT_SECONDS,
    Prober,
    VerificationLoad,
    acknowledged_ids,
    fault_settings,
    final_state,
    load_app,
    wait_for_answers,
)
from support.history import History, check
from support.pg_cluster import OwnCluster
from support.served import launch

pytestmark = [pytest.mark.e2e, pytest.mark.postgresql]

OUTAGE_SECONDS = 5.0
RECOVERY_LIMIT_SECONDS = 5.0
ANSWERS_BETWEEN_FAULTS = 30


def test_postgresql_stopped_and_its_connections_killed_under_load(
    tmp_path: Path, gateway: FaultyGateway, own_cluster: OwnCluster, record_property: object
) -> None:
    settings = fault_settings(
        gateway, OTPGATE_DATABASE_URL=own_cluster.url, OTPGATE_DATABASE_POOL_SIZE="8"
    )
    served = launch(
        tmp_path / "data", tmp_path / "serve.log", start_timeout=START_TIMEOUT_SECONDS, **settings
    )
    headers = load_app(served.http)
    history = History()
    load = VerificationLoad(served.url, headers, history, gateway).start()
    readiness = Prober(served.url, "/readyz").start()
    try:
        wait_for_answers(history, ANSWERS_BETWEEN_FAULTS, after=0, timeout=30)
        own_cluster.stop()
        stopped_at = time.monotonic()
        time.sleep(OUTAGE_SECONDS)  # the outage itself
        own_cluster.start()
        back_at = time.monotonic()
        recovered_at = wait_for_answers(history, ANSWERS_BETWEEN_FAULTS, after=back_at, timeout=30)
        ended = own_cluster.terminate_connections()
        killed_at = time.monotonic()
        wait_for_answers(history, ANSWERS_BETWEEN_FAULTS, after=killed_at, timeout=30)
    finally:
        load.stop()
        readiness.stop()
    try:
        with httpx.Client(base_url=served.url, timeout=30) as http:
            final, messages = final_state(http, headers, acknowledged_ids(history))
            ready_after = http.get("/readyz").status_code
    finally:
        served.stop()

    verdict = check(history, final, gateway.deliveries(), messages, max_attempts=MAX_ATTEMPTS)
    row = verdict.row("PostgreSQL stopped 5 s, then its connections killed", 2)
    print(row, f"recovered {recovered_at - back_at:.1f} s after the start; {ended} killed")
    record_property("reliability", row)  # type: ignore[operator]
    assert verdict.violations == [], "\n".join(verdict.violations)
    assert verdict.refusals > 0  # the outage was said, loudly
    assert 503 in readiness.statuses_between(stopped_at, back_at)
    assert ready_after == 200
    assert recovered_at - back_at <= RECOVERY_LIMIT_SECONDS
    assert ended > 0
