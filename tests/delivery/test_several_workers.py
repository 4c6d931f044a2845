"""Three `otpgate worker` processes on one PostgreSQL database share the queue through
FOR UPDATE SKIP LOCKED and a lease: each message reaches the SMSC once, and a worker killed
mid-batch loses nothing (its leased messages go out again when the lease ends)."""

from __future__ import annotations

import itertools
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from peers.otpgate import wait_until
from peers.smsc_process import SmscProcess
from support.postgres import PostgresDatabases
from support.served import OTPGATE, clean_environment

from otpgate.config import Settings
from otpgate.runtime import Runtime, build_runtime
from otpgate.service.verifications import StartRequest

MESSAGES = 2000
WORKERS = 3
BATCH = 64
IN_FLIGHT = 2
LEASED = BATCH * IN_FLIGHT  # messages a worker holds at once: the most a kill can send twice
SECRET_KEY = "workers-secret-key-0123456789abcdefghijklm"
ADMIN_TOKEN = "workers-admin-token-0123456789"


def plain_numbers(count: int) -> list[str]:
    """Mobile numbers the SMSC simulator treats plainly (its special endings are skipped)."""
    special = {0, 400, 503, 777}
    endings = (n for n in itertools.count(1) if n % 10_000 not in special)
    return [f"+4471236{ending:05d}" for ending in itertools.islice(endings, count)]


@pytest.fixture
def queued(tmp_path: Path, postgres_databases: PostgresDatabases) -> Iterator[tuple[Runtime, str]]:
    """2,000 verifications with their messages queued, and no worker yet."""
    with postgres_databases.fresh() as url:
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            data_dir=tmp_path / "data",
            database_url=url,
            secret_key=SECRET_KEY,
            admin_token=ADMIN_TOKEN,
            database_pool_size=4,
        )
        runtime = build_runtime(settings)
        # bulk traffic to one range that nobody checks: not what the abuse limits are about
        app = runtime.apps.create_app(
            "several-workers", {"fraud_guard": False, "sends_per_app_minute": MESSAGES}
        )
        with ThreadPoolExecutor(4) as threads:  # as several clients would, and sooner
            list(
                threads.map(
                    lambda number: runtime.verifications.start(app, StartRequest(to=number)),
                    plain_numbers(MESSAGES),
                )
            )
        yield runtime, url
        runtime.close()


def workers(
    tmp_path: Path, url: str, smsc: SmscProcess, **extra: str
) -> list[subprocess.Popen[bytes]]:
    """`otpgate worker` processes, each with its own data dir, on one database and SMSC."""
    return [
        subprocess.Popen(
            [OTPGATE, "worker"],
            env=clean_environment(
                tmp_path / f"worker-{n}",
                OTPGATE_DATABASE_URL=url,
                OTPGATE_DATABASE_POOL_SIZE="3",
                OTPGATE_SECRET_KEY=SECRET_KEY,
                OTPGATE_ADMIN_TOKEN=ADMIN_TOKEN,
                OTPGATE_SMS_PROVIDER="smpp",
                OTPGATE_SMPP_HOST="127.0.0.1",
                OTPGATE_SMPP_PORT=str(smsc.port),
                OTPGATE_SMPP_SYSTEM_ID=f"worker{n}",
                OTPGATE_SMPP_PASSWORD="secret",
                OTPGATE_DELIVERY_BATCH_SIZE=str(BATCH),
                OTPGATE_DELIVERY_BATCHES_IN_FLIGHT=str(IN_FLIGHT),
                OTPGATE_LOG_LEVEL="warning",
                **extra,
            ),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for n in range(WORKERS)
    ]


def delivered(runtime: Runtime) -> int:
    with runtime.database.read() as connection:
        return int(
            connection.exec_driver_sql(
                "SELECT count(*) FROM messages WHERE status = 'delivered'"
            ).scalar_one()
        )


def wait_for_all_delivered(runtime: Runtime) -> None:
    try:
        wait_until(lambda: delivered(runtime), lambda n: n == MESSAGES, 120, what="all delivered")
    except AssertionError as timeout:
        with runtime.database.read() as connection:
            left = connection.exec_driver_sql(
                "SELECT to_number, status, attempts, provider_message_id, last_error"
                " FROM messages WHERE status <> 'delivered' LIMIT 5"
            ).all()
        raise AssertionError(f"{timeout}; not delivered: {left}") from None


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in processes:
        process.wait(timeout=20)


def report(smsc: SmscProcess) -> tuple[Counter[str], int]:
    per_destination = Counter(submit["destination"] for submit in smsc.accepted())
    twice = sum(1 for count in per_destination.values() if count > 1)
    return per_destination, twice


def test_three_workers_deliver_2000_messages_each_exactly_once(
    tmp_path: Path, smsc: SmscProcess, queued: tuple[Runtime, str], record_property: Any
) -> None:
    runtime, url = queued
    started = time.monotonic()
    running = workers(tmp_path, url, smsc)
    try:
        wait_for_all_delivered(runtime)
    finally:
        stop(running)
    took = time.monotonic() - started
    per_destination, twice = report(smsc)
    note = f"{WORKERS} workers: {MESSAGES} delivered in {took:.1f}s; {twice} sent twice"
    print(note)
    record_property("several_workers", note)
    assert len(per_destination) == MESSAGES
    assert twice == 0
    assert sum(per_destination.values()) == MESSAGES


def test_a_worker_killed_mid_batch_loses_nothing(
    tmp_path: Path, smsc: SmscProcess, queued: tuple[Runtime, str], record_property: Any
) -> None:
    runtime, url = queued
    # capped so the batch in flight is still in flight when the kill comes
    running = workers(
        tmp_path, url, smsc, OTPGATE_SMPP_THROUGHPUT="150", OTPGATE_DELIVERY_LEASE_SECONDS="3"
    )
    try:
        wait_until(lambda: len(smsc.accepted()), lambda n: n >= 300, 60, what="300 submits")
        running[0].send_signal(signal.SIGKILL)
        running[0].wait(timeout=10)
        killed_at = len(smsc.accepted())
        started = time.monotonic()
        wait_for_all_delivered(runtime)
        took = time.monotonic() - started
    finally:
        stop(running)
    per_destination, twice = report(smsc)
    with runtime.database.read() as connection:
        reclaimed = connection.exec_driver_sql(
            "SELECT count(*) FROM messages WHERE attempts > 1"
        ).scalar_one()
    note = (
        f"{WORKERS} workers, one killed -9 after {killed_at} submits: {MESSAGES} delivered "
        f"{took:.1f}s later; {reclaimed} leased again after the kill, {twice} sent twice "
        f"({sum(per_destination.values())} submits)"
    )
    print(note)
    record_property("killed_worker", note)
    assert len(per_destination) == MESSAGES
    assert twice <= LEASED  # at most the killed worker's leased batches went out twice
