"""The retention job deletes verifications past the retention period with everything that
hangs off them, in small batches, on both engines; newer records stay."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from peers.otpgate import wait_until

from otpgate.config import Settings
from otpgate.domain.channels import Channel, Step
from otpgate.runtime import Runtime, build_runtime, migrate
from otpgate.service.verifications import StartRequest, VendorAlias

DAY = 86_400
TABLES = (
    "verifications",
    "messages",
    "verification_aliases",
    "idempotency_keys",
    "webhook_events",
    "workflow_steps",
)


@pytest.fixture
def small_batches(settings: Settings, clock: Any) -> Iterator[Runtime]:
    """A runtime that deletes 3 rows a transaction, so a sweep takes several batches."""
    runtime = build_runtime(
        settings.model_copy(
            # sweeps a moment apart: a row the worker's own start-up held (the expiry sweep,
            # delivery) is skipped by one sweep and deleted by the next
            update={
                "retention_batch_size": 3,
                "retention_days": 30,
                "retention_sweep_seconds": 0.2,
            }
        ),
        clock=clock,
    )
    migrate(runtime)
    yield runtime
    runtime.close()


def counts(runtime: Runtime) -> dict[str, int]:
    with runtime.database.read() as connection:
        return {
            table: int(connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one())
            for table in TABLES
        }


def start_some(runtime: Runtime, app: Any, first: int, count: int) -> list[str]:
    """Verifications with a message, an alias, an idempotency key, a webhook event and two
    workflow steps each."""
    return [
        runtime.verifications.start(
            app,
            StartRequest(
                to=f"+4471234{first + n:05d}",
                idempotency_key=f"key-{first + n}",
                alias=VendorAlias("test", f"alias-{first + n}"),
                workflow=(Step(Channel.SMS, 60), Step(Channel.SMS)),
            ),
        ).verification.id
        for n in range(count)
    ]


def test_a_sweep_deletes_what_is_past_retention_and_keeps_the_rest(
    small_batches: Runtime, clock: Any
) -> None:
    runtime = small_batches
    app = runtime.apps.create_app("kept", {"status_callback_url": "https://hooks.example.com/otp"})
    start_some(runtime, app, 0, 8)
    clock.advance(29 * DAY)
    recent = start_some(runtime, app, 100, 2)
    clock.advance(2 * DAY)  # the first 8 are now 31 days old, the last 2 are 2 days old
    assert counts(runtime) == {**dict.fromkeys(TABLES, 10), "workflow_steps": 20}

    deleted = asyncio.run(runtime.retention.sweep())

    assert deleted == 8
    assert counts(runtime) == {**dict.fromkeys(TABLES, 2), "workflow_steps": 4}
    assert [runtime.verifications.get(app, v).id for v in recent] == recent


def test_a_verification_whose_message_is_in_use_waits_for_the_next_sweep(
    small_batches: Runtime, clock: Any
) -> None:
    """The job skips rows a worker holds instead of waiting for them (no deadlock)."""
    runtime = small_batches
    if runtime.database.is_sqlite:
        pytest.skip("SQLite has one writer: no other transaction holds a row during a sweep")
    app = runtime.apps.create_app("busy")
    busy, _idle = start_some(runtime, app, 0, 2)
    clock.advance(31 * DAY)
    with runtime.database.transaction() as tx:
        tx.connection.exec_driver_sql(
            f"SELECT id FROM messages WHERE verification_id = '{busy}' FOR UPDATE"
        )
        assert asyncio.run(asyncio.wait_for(runtime.retention.sweep(), timeout=10)) == 1
    assert counts(runtime)["verifications"] == 1
    assert asyncio.run(runtime.retention.sweep()) == 1  # the next sweep takes it
    assert counts(runtime)["verifications"] == 0


def test_a_sweep_with_nothing_old_deletes_nothing(small_batches: Runtime, clock: Any) -> None:
    app = small_batches.apps.create_app("fresh")
    start_some(small_batches, app, 0, 4)
    clock.advance(29 * DAY)
    assert asyncio.run(small_batches.retention.sweep()) == 0
    assert counts(small_batches)["verifications"] == 4


def test_the_delivery_worker_runs_the_retention_job(small_batches: Runtime, clock: Any) -> None:
    """`serve` and `worker` run the job beside delivery: no cron needed."""
    runtime = small_batches
    app = runtime.apps.create_app("swept")
    start_some(runtime, app, 0, 5)
    asyncio.run(runtime.worker.deliver_due())  # sent long ago, as a 31-day-old message is
    clock.advance(31 * DAY)
    stop = asyncio.Event()
    loop = asyncio.new_event_loop()
    running = threading.Thread(target=loop.run_until_complete, args=(runtime.worker.run(stop),))
    running.start()
    try:
        wait_until(
            lambda: counts(runtime),
            lambda left: left == dict.fromkeys(TABLES, 0),
            20,
            what="old records deleted by the worker",
        )
    finally:
        loop.call_soon_threadsafe(stop.set)
        running.join(timeout=20)
        loop.close()
