"""Workflows moved by an injected clock: the next step goes out after its timeout, on /next,
at once when a message fails, and never after the verification ended."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import pytest
from sqlalchemy import select
from support.numbers import new_mobile
from support.outbox import code_in, wrong_code

from otpgate.domain.channels import Channel, Step, StepStatus
from otpgate.domain.errors import NoNextStep, NotPending
from otpgate.domain.verification import DeliveryStatus, Status
from otpgate.runtime import Runtime
from otpgate.service.outbox import OutboxMessage
from otpgate.service.ports import App, DeliveryResult, ReceiptUpdate
from otpgate.service.verifications import StartRequest
from otpgate.store.messages import SqlMessageQueue
from otpgate.store.tables import workflow_steps

_apps = itertools.count()
WHATSAPP_THEN_SMS = (Step(Channel.WHATSAPP, 30), Step(Channel.SMS))


def make_app(runtime: Runtime, **settings: Any) -> App:
    return runtime.apps.create_app(
        f"flows-{next(_apps)}", {"channels": ["sms", "call", "whatsapp"], **settings}
    )


def deliver(runtime: Runtime) -> None:
    """One round of the delivery worker: the due steps, then the queued messages."""
    asyncio.run(runtime.worker.deliver_due())


def outbox(runtime: Runtime, app: App, to: str) -> list[OutboxMessage]:
    assert runtime.outbox is not None
    return runtime.outbox.read(app.id, to, 100)


def start(runtime: Runtime, app: App, to: str, steps: tuple[Step, ...] = WHATSAPP_THEN_SMS) -> str:
    result = runtime.verifications.start(app, StartRequest(to=to, workflow=steps))
    deliver(runtime)
    return result.verification.id


def statuses(runtime: Runtime, app: App, verification_id: str) -> list[tuple[str, str]]:
    shown = runtime.verifications.get(app, verification_id)
    return [(step.channel.value, step.status.value) for step in shown.workflow]


def test_the_next_step_goes_out_once_the_first_waited_its_timeout(
    runtime: Runtime, clock: Any
) -> None:
    app, to = make_app(runtime), new_mobile()
    verification_id = start(runtime, app, to)
    [first] = outbox(runtime, app, to)
    assert first.channel is Channel.WHATSAPP
    clock.advance(29)
    deliver(runtime)
    assert len(outbox(runtime, app, to)) == 1
    clock.advance(1)
    deliver(runtime)
    second, _ = outbox(runtime, app, to)
    assert second.channel is Channel.SMS
    assert code_in(second.body) == code_in(first.body)  # one code for the whole verification
    shown = runtime.verifications.get(app, verification_id)
    assert (shown.channel, shown.sends) == ("sms", 2)
    assert statuses(runtime, app, verification_id) == [
        ("whatsapp", "delivered"),
        ("sms", "delivered"),
    ]
    check = runtime.verifications.check(app, verification_id, code_in(second.body))
    assert check.verification.status is Status.APPROVED


def test_next_sends_the_next_step_now_and_is_refused_when_none_is_left(
    runtime: Runtime, clock: Any
) -> None:
    app, to = make_app(runtime), new_mobile()
    verification_id = start(runtime, app, to)
    sent = runtime.workflows.send_next(app, verification_id)
    assert sent.channel == "sms"
    assert [(s.channel, s.status) for s in sent.workflow] == [
        (Channel.WHATSAPP, StepStatus.DELIVERED),
        (Channel.SMS, StepStatus.SENT),
    ]
    deliver(runtime)
    assert sorted(m.channel for m in outbox(runtime, app, to)) == [Channel.SMS, Channel.WHATSAPP]
    with pytest.raises(NoNextStep):
        runtime.workflows.send_next(app, verification_id)
    clock.advance(300)  # the timeout of a step sent early does not send it again
    deliver(runtime)
    assert len(outbox(runtime, app, to)) == 2


def test_next_on_a_verification_of_one_channel_has_no_step_to_send(runtime: Runtime) -> None:
    app = make_app(runtime)
    result = runtime.verifications.start(app, StartRequest(to=new_mobile(), channel=Channel.CALL))
    with pytest.raises(NoNextStep):
        runtime.workflows.send_next(app, result.verification.id)


def test_a_message_that_fails_for_good_sends_the_next_step_at_once(
    runtime: Runtime, clock: Any
) -> None:
    app, to = make_app(runtime), new_mobile()
    result = runtime.verifications.start(app, StartRequest(to=to, workflow=WHATSAPP_THEN_SMS))
    # the WhatsApp provider refuses the message, as the worker records a PermanentSendError
    queue = SqlMessageQueue(runtime.database)
    with runtime.database.transaction() as tx:
        [claimed] = queue.claim(tx, 10, clock.now(), 30)
        failed = DeliveryResult(claimed.id, DeliveryStatus.FAILED, provider="outbox", error="no")
        queue.finish(tx, [failed], clock.now())
    deliver(runtime)  # no time has passed
    [message] = outbox(runtime, app, to)
    assert message.channel is Channel.SMS
    verification_id = result.verification.id
    assert runtime.verifications.get(app, verification_id).status is Status.PENDING
    assert statuses(runtime, app, verification_id) == [("whatsapp", "failed"), ("sms", "delivered")]


def end_by_approval(runtime: Runtime, app: App, verification_id: str, to: str) -> None:
    runtime.verifications.check(app, verification_id, code_in(outbox(runtime, app, to)[0].body))


def end_by_cancel(runtime: Runtime, app: App, verification_id: str, to: str) -> None:
    runtime.verifications.cancel(app, verification_id)


def end_by_lock(runtime: Runtime, app: App, verification_id: str, to: str) -> None:
    code = code_in(outbox(runtime, app, to)[0].body)
    runtime.verifications.check(app, verification_id, wrong_code(code))


@pytest.mark.parametrize(
    "end",
    [end_by_approval, end_by_cancel, end_by_lock, None],
    ids=lambda e: getattr(e, "__name__", "expiry"),
)
def test_no_step_goes_out_after_the_verification_ended(
    runtime: Runtime, clock: Any, end: Any
) -> None:
    # ttl 60 s and a first step of 120 s: with no other ending, the code expires first
    app, to = make_app(runtime, max_attempts=1, ttl_seconds=60), new_mobile()
    verification_id = start(runtime, app, to, (Step(Channel.WHATSAPP, 120), Step(Channel.SMS)))
    if end is not None:
        end(runtime, app, verification_id, to)
    clock.advance(120)
    deliver(runtime)
    assert [m.channel for m in outbox(runtime, app, to)] == [Channel.WHATSAPP]
    assert statuses(runtime, app, verification_id) == [
        ("whatsapp", "delivered"),
        ("sms", "skipped"),
    ]
    with runtime.database.read() as connection:
        stored = connection.execute(
            select(workflow_steps.c.status).where(
                workflow_steps.c.verification_id == verification_id,
                workflow_steps.c.position == 1,
            )
        ).scalar_one()
    assert stored == "skipped"
    with pytest.raises(NotPending):
        runtime.workflows.send_next(app, verification_id)


def test_a_later_step_is_counted_against_the_daily_cap_and_skipped_past_it(
    runtime: Runtime, clock: Any
) -> None:
    app, to = make_app(runtime, messages_per_day=1), new_mobile()
    verification_id = start(runtime, app, to, (Step(Channel.CALL, 15), Step(Channel.SMS)))
    clock.advance(15)
    deliver(runtime)
    assert [m.channel for m in outbox(runtime, app, to)] == [Channel.CALL]
    assert statuses(runtime, app, verification_id) == [("call", "delivered"), ("sms", "skipped")]


def test_a_receipt_saying_undelivered_sends_the_next_step_at_once(
    runtime: Runtime, clock: Any
) -> None:
    app, to = make_app(runtime), new_mobile()
    result = runtime.verifications.start(app, StartRequest(to=to, workflow=WHATSAPP_THEN_SMS))
    queue = SqlMessageQueue(runtime.database)
    with runtime.database.transaction() as tx:
        [claimed] = queue.claim(tx, 10, clock.now(), 30)
        accepted = DeliveryResult(
            claimed.id, DeliveryStatus.SENT, provider="meta", provider_message_id="wamid.1"
        )
        queue.finish(tx, [accepted], clock.now())
    undelivered = ReceiptUpdate("meta", DeliveryStatus.UNDELIVERED, "wamid.1", None, "131026")
    assert runtime.deliveries.record_receipt(undelivered)
    deliver(runtime)
    [message] = outbox(runtime, app, to)
    assert message.channel is Channel.SMS
    verification_id = result.verification.id
    assert statuses(runtime, app, verification_id) == [("whatsapp", "failed"), ("sms", "delivered")]
