"""On PostgreSQL a queued message reaches a worker on another node through LISTEN/NOTIFY:
picked up within 100 ms, although the worker's idle poll is a second long."""

from __future__ import annotations

import signal
import statistics
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from peers.otpgate import wait_until
from support.postgres import PostgresDatabases
from support.served import OTPGATE, clean_environment

from otpgate.config import Settings
from otpgate.runtime import POSTGRESQL_POLL_SECONDS, Runtime, build_runtime
from otpgate.service.verifications import StartRequest

SECRET_KEY = "notify-secret-key-0123456789abcdefghijklmn"
SENDS = 6


@pytest.fixture
def shared_database(postgres_databases: PostgresDatabases) -> Iterator[str]:
    with postgres_databases.fresh() as url:
        yield url


@pytest.fixture
def api_node(tmp_path: Path, shared_database: str) -> Iterator[Runtime]:
    """The node that takes requests; it delivers nothing itself (its worker is not run)."""
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=tmp_path / "api",
        database_url=shared_database,
        secret_key=SECRET_KEY,
        database_pool_size=2,
    )
    runtime = build_runtime(settings)
    yield runtime
    runtime.close()


@pytest.fixture
def worker_log(tmp_path: Path, shared_database: str) -> Iterator[Path]:
    """An `otpgate worker` on another node, started and listening."""
    log = tmp_path / "worker.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [OTPGATE, "worker"],
            env=clean_environment(
                tmp_path / "worker",
                OTPGATE_DATABASE_URL=shared_database,
                OTPGATE_SECRET_KEY=SECRET_KEY,
                OTPGATE_DATABASE_POOL_SIZE="2",
            ),
            stdout=output,
            stderr=output,
        )
        try:
            wait_until(
                log.read_text,
                lambda text: "message_notifications_listening" in text,
                20,
                what="the worker to LISTEN",
            )
            yield log
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=20)


def status_of(runtime: Runtime, message_id: str) -> str:
    with runtime.database.read() as connection:
        return str(
            connection.exec_driver_sql(
                f"SELECT status FROM messages WHERE id = '{message_id}'"
            ).scalar_one()
        )


def last_message_id(runtime: Runtime, verification_id: str) -> str:
    with runtime.database.read() as connection:
        return str(
            connection.exec_driver_sql(
                f"SELECT last_message_id FROM verifications WHERE id = '{verification_id}'"
            ).scalar_one()
        )


def seconds_to_sent(runtime: Runtime, app: Any, to: str) -> float:
    """Queue a message on `runtime`'s node; seconds from its commit until it is sent."""
    verification = runtime.verifications.start(app, StartRequest(to=to))
    started = time.monotonic()  # committed: the NOTIFY is on its way
    message_id = last_message_id(runtime, verification.verification.id)
    while status_of(runtime, message_id) in ("queued", "sending"):
        assert time.monotonic() - started < 5, "never delivered"
        time.sleep(0.002)
    return time.monotonic() - started


def test_a_message_queued_on_one_node_is_sent_by_another_within_100_ms(
    api_node: Runtime, worker_log: Path, record_property: object
) -> None:
    app = api_node.apps.create_app("notified")
    latencies = []
    for n in range(SENDS):
        time.sleep(POSTGRESQL_POLL_SECONDS / 4)  # the worker is idle, waiting, not polling
        latencies.append(seconds_to_sent(api_node, app, f"+44712370{n:04d}"))
    note = (
        f"queued to sent on another node: median {statistics.median(latencies) * 1000:.0f} ms, "
        f"max {max(latencies) * 1000:.0f} ms (idle poll {POSTGRESQL_POLL_SECONDS * 1000:.0f} ms)"
    )
    print(note)
    record_property("notify_latency", note)  # type: ignore[operator]
    assert statistics.median(latencies) < 0.1
    assert max(latencies) < POSTGRESQL_POLL_SECONDS / 2  # no pickup waited for a poll


def test_a_lost_listen_connection_is_reopened_and_notifications_resume(
    api_node: Runtime, worker_log: Path, shared_database: str
) -> None:
    with psycopg.connect(shared_database, autocommit=True) as admin:
        ended = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND query LIKE 'LISTEN %'"
        ).fetchall()
    assert ended == [(True,)]
    wait_until(
        worker_log.read_text,
        lambda text: text.count("message_notifications_listening") == 2,
        20,
        what="the worker to LISTEN again",
    )
    assert worker_log.read_text().count("message_notifications_lost") == 1
    app = api_node.apps.create_app("renotified")
    time.sleep(POSTGRESQL_POLL_SECONDS / 4)
    assert seconds_to_sent(api_node, app, "+447123709999") < POSTGRESQL_POLL_SECONDS / 2
