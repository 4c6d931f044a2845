"""`kill -9` of a worker with messages in flight: every message is delivered in the end, by
another worker process, and the duplicates that at-least-once allows carry the same code; the
history of starts and what the SMSC took is checked against the fault invariants
(support/history.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from peers.otpgate import wait_until
from peers.smsc_process import SmscProcess
from support.history import Delivery, History, Operation, check

from otpgate.config import Settings
from otpgate.runtime import Runtime, build_runtime, migrate
from otpgate.service.verifications import StartRequest

MESSAGES = 500
SECRET_KEY = "crash-secret-key-0123456789abcdefghijklmno"
ADMIN_TOKEN = "crash-admin-token-0123456789"


def worker_environment(data_dir: Path, smsc: SmscProcess) -> dict[str, str]:
    return {
        **os.environ,
        "OTPGATE_DATA_DIR": str(data_dir),
        "OTPGATE_SECRET_KEY": SECRET_KEY,
        "OTPGATE_ADMIN_TOKEN": ADMIN_TOKEN,
        "OTPGATE_SMS_PROVIDER": "smpp",
        "OTPGATE_SMPP_HOST": "127.0.0.1",
        "OTPGATE_SMPP_PORT": str(smsc.port),
        "OTPGATE_SMPP_SYSTEM_ID": "crash",
        "OTPGATE_SMPP_PASSWORD": "crash",
        "OTPGATE_SMPP_THROUGHPUT": "250",  # slow enough to be killed mid-stream
        "OTPGATE_DELIVERY_LEASE_SECONDS": "3",
        "OTPGATE_LOG_LEVEL": "warning",
    }


def start_worker(environment: dict[str, str]) -> subprocess.Popen[bytes]:
    command = Path(sys.executable).with_name("otpgate")
    return subprocess.Popen(
        [str(command), "worker"],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def delivered(runtime: Runtime) -> int:
    with runtime.database.read() as connection:
        return int(
            connection.exec_driver_sql(
                "SELECT count(*) FROM messages WHERE status = 'delivered'"
            ).scalar_one()
        )


def stored(runtime: Runtime) -> tuple[dict[str, Any], dict[str, list[Any]], dict[str, str]]:
    """Every verification and its messages as stored, and the message id of each number (in
    digits, as SMPP addresses it)."""
    with runtime.database.read() as connection:
        final = {
            row.id: {"status": row.status, "attempts": row.attempts, "sends": row.sends}
            for row in connection.exec_driver_sql(
                "SELECT id, status, attempts, sends FROM verifications"
            )
        }
        rows = connection.exec_driver_sql(
            "SELECT id, verification_id, to_number, status FROM messages"
        ).all()
    messages: defaultdict[str, list[Any]] = defaultdict(list)
    for row in rows:
        messages[row.verification_id].append({"id": row.id, "status": row.status})
    return final, messages, {row.to_number.lstrip("+"): row.id for row in rows}


def test_killed_worker_loses_nothing_and_reports_duplicates(
    tmp_path: Path, smsc: SmscProcess, record_property: object
) -> None:
    data_dir = tmp_path / "data"
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=data_dir, secret_key=SECRET_KEY, admin_token=ADMIN_TOKEN
    )
    runtime = build_runtime(settings)
    migrate(runtime)
    # bulk traffic to one range that nobody checks: not what the abuse limits are about
    app = runtime.apps.create_app("crash", {"fraud_guard": False, "sends_per_app_minute": MESSAGES})
    history = History()
    for n in range(MESSAGES):
        started = time.monotonic()
        result = runtime.verifications.start(app, StartRequest(to=f"+4471235{n + 11001:05d}"))
        body = {"id": result.verification.id, "sends": result.verification.sends}
        history.record(
            Operation(
                "start",
                started,
                time.monotonic(),
                201,
                body,
                {},
                body["id"],
                result.verification.to,
            )
        )
    environment = worker_environment(data_dir, smsc)

    first = start_worker(environment)
    try:
        wait_until(smsc.accepted, lambda found: len(found) >= 100, 30, what="100 submits")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    sent_before_kill = len(smsc.accepted())

    second = start_worker(environment)
    try:
        started = time.monotonic()
        wait_until(
            lambda: delivered(runtime),
            lambda count: count == MESSAGES,
            90,
            what=f"{MESSAGES} messages delivered",
        )
        recovery = time.monotonic() - started
        final, messages, message_of = stored(runtime)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=15)
        runtime.close()

    accepted = smsc.accepted()
    # one message per number: the number names the message the SMSC took
    deliveries = [
        Delivery(message_of[s["destination"]], "+" + s["destination"], 0.0) for s in accepted
    ]
    verdict = check(history, final, deliveries, messages)
    per_destination = Counter(submit["destination"] for submit in accepted)
    twice = sum(1 for count in per_destination.values() if count > 1)
    texts: defaultdict[str, set[str]] = defaultdict(set)
    for submit in accepted:
        texts[submit["destination"]].add(submit["short_message"])
    report = (
        f"{MESSAGES} delivered; {sent_before_kill} submitted before kill -9; "
        f"{twice} sent twice ({len(accepted)} submits in all); recovered in {recovery:.1f}s; "
        f"{verdict.row('kill -9 of worker mid-batch', 1)}"
    )
    print(report)
    record_property("crash_report", report)  # type: ignore[operator]

    assert verdict.violations == [], "\n".join(verdict.violations)
    assert len(per_destination) == MESSAGES
    assert all(len(seen) == 1 for seen in texts.values())  # a duplicate is the same code
