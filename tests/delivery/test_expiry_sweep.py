"""The expiry sweep tells an app when a pending verification expires, once, in the
transaction that erases its code; on SQLite and PostgreSQL, with several sweepers at once."""

from __future__ import annotations

import asyncio
import json
import threading
from collections import Counter
from typing import Any

from peers.otpgate import StartOtpgate, wait_until
from peers.receiver import WebhookReceiver
from sqlalchemy import select

from otpgate.delivery.expiry import ExpirySweep
from otpgate.domain.verification import Status
from otpgate.runtime import Runtime, SystemRandom, build_runtime
from otpgate.service.app_directory import AppDirectory
from otpgate.service.ports import App
from otpgate.service.verifications import StartRequest
from otpgate.service.webhooks import WebhookEmitter
from otpgate.store.apps import SqlAppStore
from otpgate.store.messages import SqlMessageQueue
from otpgate.store.tables import verifications, webhook_events
from otpgate.store.webhooks import SqlWebhookStore

TTL_SECONDS = 600
HOOKED = {"status_callback_url": "https://hooks.example.com/otp", "fraud_guard": False}


def new_app(runtime: Runtime, settings: dict[str, Any]) -> App:
    return runtime.apps.create_app(f"app-{len(runtime.apps.list_apps())}", settings)


def start(runtime: Runtime, app: App, count: int, first: int = 0) -> list[str]:
    return [
        runtime.verifications.start(
            app, StartRequest(to=f"+4471231230{first + n:02d}", ttl_seconds=TTL_SECONDS)
        ).verification.id
        for n in range(count)
    ]


def expired_events(runtime: Runtime) -> Counter[str]:
    """How many `expired` events each verification has."""
    with runtime.database.read() as connection:
        bodies = connection.execute(select(webhook_events.c.body)).scalars().all()
    shown = [json.loads(body)["verification"] for body in bodies]
    return Counter(fields["id"] for fields in shown if fields["status"] == "expired")


def codes_kept(runtime: Runtime) -> int:
    with runtime.database.read() as connection:
        kept = connection.execute(
            select(verifications.c.id).where(verifications.c.code_sealed.is_not(None))
        )
        return len(kept.all())


def test_each_pending_verification_past_expiry_is_reported_once(
    runtime: Runtime, clock: Any
) -> None:
    app = new_app(runtime, HOOKED)
    pending = start(runtime, app, 3)
    [canceled] = start(runtime, app, 1, first=10)
    runtime.verifications.cancel(app, canceled)
    clock.advance(TTL_SECONDS - 1)
    assert asyncio.run(runtime.expiry.sweep()) == 0  # not yet

    clock.advance(1)
    assert asyncio.run(runtime.expiry.sweep()) == 3
    assert asyncio.run(runtime.expiry.sweep()) == 0

    assert expired_events(runtime) == {verification_id: 1 for verification_id in pending}
    assert codes_kept(runtime) == 0
    assert runtime.verifications.get(app, pending[0]).status is Status.EXPIRED


def test_apps_without_a_callback_lose_the_codes_and_get_no_event(
    runtime: Runtime, clock: Any
) -> None:
    app = new_app(runtime, {"fraud_guard": False})
    start(runtime, app, 2)
    clock.advance(TTL_SECONDS)

    assert asyncio.run(runtime.expiry.sweep()) == 2

    assert codes_kept(runtime) == 0
    assert expired_events(runtime) == {}


def test_several_sweepers_in_small_batches_report_each_expiry_once(
    runtime: Runtime, clock: Any
) -> None:
    app = new_app(runtime, HOOKED)
    started = start(runtime, app, 30)
    clock.advance(TTL_SECONDS)
    # two nodes: each its own runtime (engine, pool, emitter) on the same database
    other = build_runtime(runtime.settings, clock=clock)
    sweepers = [
        ExpirySweep(
            SqlMessageQueue(node.database),
            node.database,
            clock,
            node_emitter(node),
            sweep_seconds=60,
            batch_size=4,
        )
        for node in (runtime, runtime, other, other)
    ]
    counts: list[int] = []
    threads = [
        threading.Thread(target=lambda s=sweeper: counts.append(asyncio.run(s.sweep())))
        for sweeper in sweepers
    ]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        other.close()

    assert sum(counts) == 30
    assert expired_events(runtime) == {verification_id: 1 for verification_id in started}


def node_emitter(node: Runtime) -> Any:
    """A node's status webhooks, built as the runtime builds them."""
    database = node.database
    emitter = WebhookEmitter(
        SqlWebhookStore(database),
        AppDirectory(SqlAppStore(database), node.clock),
        node.clock,
        SystemRandom(),
    )
    return emitter.verification_changed


def test_a_served_app_hears_of_an_expiry_without_asking(start_otpgate: StartOtpgate) -> None:
    receiver = WebhookReceiver().start()
    try:
        otpgate = start_otpgate(expiry_sweep_seconds=0.2)
        app = otpgate.create_app({"status_callback_url": receiver.url + "/hooks"})
        started = otpgate.start_verification(app, "+447123123099", ttl_seconds=1)

        events = wait_until(
            receiver.events,
            lambda events: any(e["verification"]["status"] == "expired" for e in events),
            10,
            what="a webhook saying expired",
        )
    finally:
        receiver.stop()

    [expired] = [e for e in events if e["verification"]["status"] == "expired"]
    assert expired["verification"]["id"] == started["id"]
    assert expired["type"] == "verification.updated"
