"""Checks, re-sends, cancels and delivery batches on the same verifications from many
threads at once: no deadlock, no error but the domain's refusals, and the counts add up,
on both engines (READ COMMITTED on PostgreSQL)."""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import Callable
from typing import Any

from otpgate.domain.errors import OtpgateError
from otpgate.runtime import Runtime
from otpgate.service.verifications import StartRequest

NUMBERS = [f"+4471238{n:05d}" for n in range(10001, 10013)]
ROUNDS = 40
MAX_SENDS = 5  # low, so that re-sends race for the last one


def test_mixed_concurrent_writes_never_deadlock_and_keep_the_counts(runtime: Runtime) -> None:
    app = runtime.apps.create_app(
        "mixed", {"resend_cooldown_seconds": 0, "max_sends": MAX_SENDS, "max_attempts": 20}
    )
    ids = [runtime.verifications.start(app, StartRequest(to=n)).verification.id for n in NUMBERS]
    failures: list[BaseException] = []

    def check(pick: random.Random) -> None:
        runtime.verifications.check(app, pick.choice(ids), "000000")

    def resend(pick: random.Random) -> None:
        runtime.verifications.start(app, StartRequest(to=pick.choice(NUMBERS)))

    def cancel(pick: random.Random) -> None:
        if pick.random() < 0.1:
            runtime.verifications.cancel(app, pick.choice(ids))

    def deliver(_pick: random.Random) -> None:
        asyncio.run(runtime.worker.deliver_due())

    def hammer(seed: int, operation: Callable[[random.Random], Any]) -> None:
        pick = random.Random(seed)
        barrier.wait()
        for _ in range(ROUNDS):
            try:
                operation(pick)
            except OtpgateError:
                pass  # a refusal (locked, not pending, too many sends) is an answer
            except BaseException as error:  # a deadlock or any database error is not
                failures.append(error)
                return

    operations = [check, check, check, resend, resend, resend, cancel, deliver, deliver]
    barrier = threading.Barrier(len(operations))
    threads = [
        threading.Thread(target=hammer, args=(seed, operation))
        for seed, operation in enumerate(operations)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck"
    assert failures == []

    with runtime.database.read() as connection:
        rows = connection.exec_driver_sql(
            "SELECT v.id, v.attempts, v.max_attempts, v.sends,"
            " (SELECT count(*) FROM messages m WHERE m.verification_id = v.id)"
            " FROM verifications v"
        ).all()
    assert len(rows) >= len(NUMBERS)
    for _id, attempts, max_attempts, sends, messages in rows:
        assert attempts <= max_attempts
        assert sends <= MAX_SENDS
        assert messages == sends  # every counted send queued exactly one message
