"""Finding 4: a queued message sealed under a key this server does not hold (another node's,
a retired one) fails alone with a clear last_error and a metric; the rest of its batch is
delivered instead of the whole batch being claimed again every lease."""

from __future__ import annotations

import time
from collections.abc import Callable

from support.native import NativeApi
from support.served import StartOtpgate

ADMIN = {"Authorization": "Bearer unopenable-admin-token-0123456789"}
KEY_A = "node-a-secret-key-0123456789abcdefghijklmnopqr"
KEY_B = "node-b-secret-key-0123456789abcdefghijklmnopqr"


def test_a_message_sealed_under_another_key_fails_and_its_batch_is_delivered(
    engine_settings: Callable[[], dict[str, str]], start_otpgate: StartOtpgate
) -> None:
    settings = {
        **engine_settings(),
        "OTPGATE_ADMIN_TOKEN": ADMIN["Authorization"][7:],
        "OTPGATE_DELIVERY_LEASE_SECONDS": "2",
    }
    node_a = start_otpgate("--no-worker", **settings, OTPGATE_SECRET_KEY=KEY_A)
    app_a = node_a.default_app()
    sealed_by_a = app_a.started()
    node_a.stop()

    node_b = start_otpgate(**settings, OTPGATE_SECRET_KEY=KEY_B)
    app = node_b.http.post("/v1/apps", json={"name": "node-b"}, headers=ADMIN).json()
    key = node_b.http.post(f"/v1/apps/{app['id']}/keys", headers=ADMIN).json()["api_key"]
    api = NativeApi(node_b.http, {"Authorization": f"Bearer {key}"})
    sealed_by_b = api.started()
    assert api.code_of(sealed_by_b, timeout=10)  # delivered, beside the one it cannot open

    deadline = time.monotonic() + 10
    while "otpgate_messages_unopenable_total 1.0" not in node_b.http.get("/metrics").text:
        assert time.monotonic() < deadline, "no unopenable message counted"
        time.sleep(0.1)
    node_b.stop()
    # node A's app reads its message: failed, once, saying why
    node_a = start_otpgate("--no-worker", **settings, OTPGATE_SECRET_KEY=KEY_A)
    [message] = node_a.http.get(
        f"/v1/verifications/{sealed_by_a['id']}/messages", headers=app_a.headers
    ).json()["messages"]
    assert message["status"] == "failed"
    assert message["attempts"] == 1
    assert message["last_error"] == "the message text does not open with this server's secret keys"
