"""What the service offers compatibility APIs: random aliases stored hashed, the queued
message's id, caller placeholder values, and limits on stored labels."""

from __future__ import annotations

import asyncio

import pytest

from otpgate.domain.errors import ValidationFailed
from otpgate.runtime import Runtime
from otpgate.service.outbox import OutboxMessage
from otpgate.service.verifications import StartRequest

TO = "+447400999001"


def test_an_alias_is_32_random_lower_case_letters_and_digits(runtime: Runtime) -> None:
    aliases = {runtime.verifications.new_alias("idresponse").value for _ in range(50)}
    assert len(aliases) == 50
    assert all(len(a) == 32 and a.isalnum() and a == a.lower() and a.isascii() for a in aliases)


def test_an_alias_finds_its_verification_and_only_its_hash_is_stored(runtime: Runtime) -> None:
    app = runtime.apps.create_app("hooks")
    alias = runtime.verifications.new_alias("idresponse")
    started = runtime.verifications.start(app, StartRequest(to=TO, alias=alias))
    assert runtime.verifications.find_alias(alias) == (app.id, started.verification.id)
    with runtime.database.read() as connection:
        rows = connection.exec_driver_sql("SELECT alias_hash FROM verification_aliases").all()
    assert [row[0] for row in rows] == [alias.hashed()]
    assert alias.value not in alias.hashed()


def test_start_answers_the_id_of_the_message_it_queued(runtime: Runtime) -> None:
    app = runtime.apps.create_app("hooks")
    first = runtime.verifications.start(app, StartRequest(to=TO))
    assert [message.id for message in _delivered(runtime, app.id)] == [first.message_id]


def test_caller_values_fill_their_placeholders_in_the_message(runtime: Runtime) -> None:
    app = runtime.apps.create_app("hooks")
    runtime.verifications.start(
        app,
        StartRequest(to=TO, template="Hello {fn}, {code}", template_values=(("fn", "John"),)),
    )
    [message] = _delivered(runtime, app.id)
    assert message.body.startswith("Hello John, ")


@pytest.mark.parametrize("field", ["reference", "external_id"])
@pytest.mark.parametrize("value", ["x" * 129, "a\x00b", "\ud800"])
def test_a_label_that_cannot_be_stored_is_refused(runtime: Runtime, field: str, value: str) -> None:
    app = runtime.apps.create_app("hooks")
    with pytest.raises(ValidationFailed) as refused:
        runtime.verifications.start(app, StartRequest(to=TO, **{field: value}))
    assert refused.value.field == field


def _delivered(runtime: Runtime, app_id: str) -> list[OutboxMessage]:
    """Run one delivery round of the real worker, then read the developer outbox."""
    asyncio.run(runtime.worker.deliver_due())
    assert runtime.outbox is not None
    return runtime.outbox.read(app_id, TO, 10)
