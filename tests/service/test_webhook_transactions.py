"""A status webhook's event is written in the transaction that makes the change it reports:
a crash between the two cannot keep the change and lose its event (or the other way)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from peers.gateway import FakeGateway
from sqlalchemy import select

from otpgate.config import Settings
from otpgate.domain.verification import DeliveryStatus, Status
from otpgate.runtime import Runtime, build_runtime, migrate
from otpgate.service.ports import App, ListQuery, ReceiptUpdate
from otpgate.service.verifications import StartRequest
from otpgate.store.tables import webhook_events

TEST_NUMBER = "+447123123456"
TEST_CODE = "424242"
EVERY_VERIFICATION = ListQuery(to=None, status=None, limit=100, before_id=None)


class Crash(Exception):
    """The process dying after the event is written and before the commit."""


def new_app(runtime: Runtime) -> App:
    return runtime.apps.create_app(
        f"app-{len(runtime.apps.list_apps())}",
        {
            "status_callback_url": "https://hooks.example.com/otp",
            "test_numbers": {TEST_NUMBER: TEST_CODE},
        },
    )


def crash_after_each_event(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    enqueue = runtime.webhooks.enqueue

    def enqueue_then_crash(tx: Any, event: Any) -> None:
        enqueue(tx, event)
        raise Crash

    monkeypatch.setattr(runtime.webhooks, "enqueue", enqueue_then_crash)


def reported(runtime: Runtime, verification_id: str) -> list[tuple[str, str]]:
    """(status, delivery_status) of each event queued for the verification, oldest first."""
    with runtime.database.read() as connection:
        bodies = connection.execute(
            select(webhook_events.c.body)
            .where(webhook_events.c.verification_id == verification_id)
            .order_by(webhook_events.c.created_at, webhook_events.c.id)
        ).scalars()
        shown = [json.loads(body)["verification"] for body in bodies]
    return [(fields["status"], fields["delivery_status"]) for fields in shown]


def test_a_start_that_dies_before_commit_leaves_no_verification_and_no_event(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = new_app(runtime)
    crash_after_each_event(runtime, monkeypatch)

    with pytest.raises(Crash):
        runtime.verifications.start(app, StartRequest(to="+447123120001"))

    assert runtime.verifications.list(app, EVERY_VERIFICATION) == []


def test_a_cancel_and_its_event_commit_together(
    runtime: Runtime, clock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = new_app(runtime)
    kept = runtime.verifications.start(app, StartRequest(to="+447123120002")).verification
    lost = runtime.verifications.start(app, StartRequest(to="+447123120003")).verification
    clock.advance(1)  # events in order of time

    runtime.verifications.cancel(app, kept.id)
    crash_after_each_event(runtime, monkeypatch)
    with pytest.raises(Crash):
        runtime.verifications.cancel(app, lost.id)

    assert [status for status, _ in reported(runtime, kept.id)] == ["pending", "canceled"]
    assert runtime.verifications.get(app, lost.id).status is Status.PENDING
    assert [status for status, _ in reported(runtime, lost.id)] == ["pending"]


def test_an_approving_check_and_its_event_commit_together(
    runtime: Runtime, clock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = new_app(runtime)
    started = runtime.verifications.start(app, StartRequest(to=TEST_NUMBER)).verification
    clock.advance(1)

    crash_after_each_event(runtime, monkeypatch)
    with pytest.raises(Crash):
        runtime.verifications.check(app, started.id, TEST_CODE)
    monkeypatch.undo()
    assert runtime.verifications.get(app, started.id).status is Status.PENDING
    assert [status for status, _ in reported(runtime, started.id)] == ["pending"]

    assert runtime.verifications.check(app, started.id, TEST_CODE).verification.approved_at
    assert [status for status, _ in reported(runtime, started.id)] == ["pending", "approved"]


def test_a_sent_batch_and_its_events_commit_together(
    runtime: Runtime, clock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = new_app(runtime)
    started = runtime.verifications.start(app, StartRequest(to="+447123120004")).verification

    crash_after_each_event(runtime, monkeypatch)
    with pytest.raises(Crash):
        asyncio.run(runtime.worker.deliver_due())
    monkeypatch.undo()
    [message] = runtime.deliveries.messages(app, started.id)
    assert message.status is DeliveryStatus.SENDING  # claimed, its result never recorded
    assert reported(runtime, started.id) == [("pending", "queued")]

    clock.advance(runtime.settings.delivery_lease_seconds + 1)  # the lease runs out: again
    asyncio.run(runtime.worker.deliver_due())

    [message] = runtime.deliveries.messages(app, started.id)
    assert message.status is not DeliveryStatus.SENDING
    assert reported(runtime, started.id) == [
        ("pending", "queued"),
        ("pending", message.status.value),
    ]


@pytest.fixture
def http_runtime(settings: Settings, clock: Any, gateway: FakeGateway) -> Iterator[Runtime]:
    """A runtime whose messages go to a gateway that accepts them and reports later."""
    built = build_runtime(
        settings.model_copy(
            update={
                "sms_provider": "http",
                "http_url": gateway.url + "/sms",
                "http_body": '{"to": "{to}", "text": "{body}"}',
                "http_message_id_path": "messages.0.id",
            }
        ),
        clock=clock,
    )
    migrate(built)
    yield built
    built.close()


def test_a_receipt_and_its_event_commit_together(
    http_runtime: Runtime, clock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    runtime = http_runtime
    app = new_app(runtime)
    started = runtime.verifications.start(app, StartRequest(to="+447123120005")).verification
    clock.advance(1)
    asyncio.run(runtime.worker.deliver_due())
    [message] = runtime.deliveries.messages(app, started.id)
    assert message.status is DeliveryStatus.SENT and message.provider_message_id
    receipt = ReceiptUpdate(
        provider="http",
        status=DeliveryStatus.DELIVERED,
        provider_message_id=message.provider_message_id,
        message_id=None,
        error=None,
    )
    clock.advance(1)

    crash_after_each_event(runtime, monkeypatch)
    with pytest.raises(Crash):
        runtime.deliveries.record_receipt(receipt)
    monkeypatch.undo()
    assert runtime.verifications.get(app, started.id).delivery_status is DeliveryStatus.SENT
    assert reported(runtime, started.id) == [("pending", "queued"), ("pending", "sent")]

    assert runtime.deliveries.record_receipt(receipt)
    assert reported(runtime, started.id)[-1] == ("pending", "delivered")
