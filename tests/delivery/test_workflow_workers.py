"""Two `otpgate worker` processes on one PostgreSQL database send the due steps of 400
workflows; one is killed -9 while it sends them. Each step goes out exactly once: a step is
marked sent in the transaction that queues its message, so the kill's rolled-back
transaction leaves its steps due for the other worker, and a committed one is never redone."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from peers.otpgate import wait_until
from support.postgres import PostgresDatabases
from support.served import OTPGATE, clean_environment

from otpgate.config import Settings
from otpgate.domain.channels import Channel, Step
from otpgate.runtime import Runtime, build_runtime
from otpgate.service.verifications import StartRequest

FLOWS = 400
SECRET_KEY = "workflow-secret-key-0123456789abcdefghijkl"
ADMIN_TOKEN = "workflow-admin-token-0123456789"
WHATSAPP_THEN_SMS = (Step(Channel.WHATSAPP, 15), Step(Channel.SMS))


@dataclass
class EarlierClock:
    """The starts happened 20 s ago: every second step is due when the workers start."""

    def now(self) -> datetime:
        return datetime.now(UTC) - timedelta(seconds=20)


@pytest.fixture
def started(tmp_path: Path, postgres_databases: PostgresDatabases) -> Iterator[tuple[Runtime, str]]:
    with postgres_databases.fresh() as url:
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            data_dir=tmp_path / "data",
            database_url=url,
            secret_key=SECRET_KEY,
            admin_token=ADMIN_TOKEN,
            database_pool_size=4,
        )
        runtime = build_runtime(settings, clock=EarlierClock())
        app = runtime.apps.create_app(
            "workflow-workers",
            {
                "channels": ["sms", "whatsapp"],
                "fraud_guard": False,
                "sends_per_app_minute": 10 * FLOWS,
            },
        )
        numbers = [f"+4474009{n:05d}" for n in range(FLOWS)]
        with ThreadPoolExecutor(4) as threads:
            list(
                threads.map(
                    lambda to: runtime.verifications.start(
                        app, StartRequest(to=to, workflow=WHATSAPP_THEN_SMS)
                    ),
                    numbers,
                )
            )
        yield runtime, url
        runtime.close()


def workers(tmp_path: Path, url: str) -> list[subprocess.Popen[bytes]]:
    return [
        subprocess.Popen(
            [OTPGATE, "worker"],
            env=clean_environment(
                tmp_path / f"worker-{n}",
                OTPGATE_DATABASE_URL=url,
                OTPGATE_DATABASE_POOL_SIZE="3",
                OTPGATE_SECRET_KEY=SECRET_KEY,
                OTPGATE_ADMIN_TOKEN=ADMIN_TOKEN,
                OTPGATE_DELIVERY_LEASE_SECONDS="3",
                OTPGATE_LOG_LEVEL="warning",
            ),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for n in range(2)
    ]


def count(runtime: Runtime, sql: str) -> int:
    with runtime.database.read() as connection:
        return int(connection.exec_driver_sql(sql).scalar_one())


def test_a_worker_killed_while_sending_steps_sends_none_twice_and_loses_none(
    tmp_path: Path, started: tuple[Runtime, str]
) -> None:
    runtime, url = started
    second_steps = "SELECT count(*) FROM messages WHERE channel = 'sms'"
    running = workers(tmp_path, url)
    try:
        wait_until(lambda: count(runtime, second_steps), lambda n: n >= 64, 30, what="64 steps")
        running[0].send_signal(signal.SIGKILL)
        running[0].wait(timeout=10)
        killed_at = count(runtime, second_steps)
        wait_until(
            lambda: count(runtime, "SELECT count(*) FROM workflow_steps WHERE status <> 'sent'"),
            lambda left: left == 0,
            60,
            what="every step sent",
        )
    finally:
        for process in running:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in running:
            process.wait(timeout=20)
    print(f"one of two workers killed -9 after {killed_at} of {FLOWS} second steps")
    assert killed_at < FLOWS, "the kill came after every step was sent: nothing was tested"
    assert count(runtime, second_steps) == FLOWS
    assert count(runtime, "SELECT count(*) FROM messages") == 2 * FLOWS
    # each step names its one message, and each verification has one message per step
    assert (
        count(
            runtime,
            "SELECT count(*) FROM workflow_steps s JOIN messages m ON m.id = s.message_id"
            " WHERE m.channel = s.channel",
        )
        == 2 * FLOWS
    )
    assert (
        count(
            runtime,
            "SELECT count(*) FROM (SELECT verification_id FROM messages"
            " GROUP BY verification_id, channel HAVING count(*) > 1) AS twice",
        )
        == 0
    )
    assert count(runtime, "SELECT count(*) FROM verifications WHERE sends = 2") == FLOWS
