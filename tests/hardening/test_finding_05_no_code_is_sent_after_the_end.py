"""Finding 5: a queued message whose verification is no longer pending (canceled, locked) is
not sent; it ends failed, with a last_error saying why."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from support.native import NativeApi
from support.served import StartOtpgate

ADMIN_TOKEN = "ended-admin-token-0123456789"


def settled_messages(api: NativeApi, verification_id: str) -> list[dict[str, Any]]:
    """The verification's messages once none is queued or being sent any more."""
    deadline = time.monotonic() + 15
    while True:
        answer = api.http.get(f"/v1/verifications/{verification_id}/messages", headers=api.headers)
        messages: list[dict[str, Any]] = answer.json()["messages"]
        if messages and all(m["status"] not in ("queued", "sending") for m in messages):
            return messages
        assert time.monotonic() < deadline, messages
        time.sleep(0.1)


def test_messages_of_ended_verifications_are_not_sent(
    engine_settings: Callable[[], dict[str, str]], start_otpgate: StartOtpgate
) -> None:
    settings = {**engine_settings(), "OTPGATE_ADMIN_TOKEN": ADMIN_TOKEN}
    queued_only = start_otpgate("--no-worker", **settings)
    api = queued_only.default_app()
    canceled = api.started()
    assert api.cancel(canceled["id"]).status_code == 200
    locked = api.started()
    while api.get(locked["id"]).json()["status"] == "pending":
        api.check(locked["id"], "wrong1")
    assert api.get(locked["id"]).json()["status"] == "locked"
    queued_only.stop()

    delivering = start_otpgate(**settings)
    api = NativeApi(delivering.http, api.headers)
    still_pending = api.started()  # the same batch's pending one is sent
    api.code_of(still_pending)
    for ended, word in ((canceled, "canceled"), (locked, "locked")):
        [message] = settled_messages(api, ended["id"])
        assert message["status"] == "failed"
        assert message["last_error"] == f"not sent: the verification is {word}"
        assert api.outbox(to=ended["to"]).json()["messages"] == []
