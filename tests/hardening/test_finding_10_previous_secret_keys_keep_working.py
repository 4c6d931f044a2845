"""Finding 10: with OTPGATE_PREVIOUS_SECRET_KEYS, what was made under an earlier secret key
(API key hashes, code hashes, sealed codes and message texts) still works after a rotation,
and everything new uses the current key; without it, the old key's work stops."""

from __future__ import annotations

from collections.abc import Callable

from support.native import NativeApi
from support.served import ServedOtpgate, StartOtpgate

OLD_KEY = "old-secret-key-0123456789abcdefghijklmnopqrstuv"
NEW_KEY = "new-secret-key-0123456789abcdefghijklmnopqrstuv"
ADMIN = {"Authorization": "Bearer rotation-admin-token-0123456789"}


def as_app(served: ServedOtpgate, api_key: str) -> NativeApi:
    return NativeApi(served.http, {"Authorization": f"Bearer {api_key}"})


def test_work_made_under_the_previous_key_survives_the_rotation(
    engine_settings: Callable[[], dict[str, str]], start_otpgate: StartOtpgate
) -> None:
    database = {**engine_settings(), "OTPGATE_ADMIN_TOKEN": ADMIN["Authorization"][7:]}
    before = start_otpgate(**database, OTPGATE_SECRET_KEY=OLD_KEY)
    assert before.first_start is not None
    old_api_key = before.first_start["api_key"]
    old = as_app(before, old_api_key)
    delivered = old.started()
    code = old.code_of(delivered)
    waiting = old.started()  # checked after the rotation with the code it was sent
    waiting_code = old.code_of(waiting)
    before.stop()

    rotated = start_otpgate(
        "--no-worker", **database, OTPGATE_SECRET_KEY=NEW_KEY, OTPGATE_PREVIOUS_SECRET_KEYS=OLD_KEY
    )
    old = as_app(rotated, old_api_key)
    assert old.list().status_code == 200  # the API key hashed under the old key
    # the developer outbox opens the texts sealed under the old key
    assert old.outbox(to=delivered["to"]).json()["messages"][0]["body"].endswith(code)
    assert old.check(waiting["id"], waiting_code).json()["valid"] is True  # its code hash
    wrong = "000000" if code != "000000" else "111111"
    assert old.check(delivered["id"], wrong).json()["valid"] is False
    # made during the rotation: under the new key
    created = rotated.http.post("/v1/apps", json={"name": "during-rotation"}, headers=ADMIN)
    new_api_key = rotated.http.post(f"/v1/apps/{created.json()['id']}/keys", headers=ADMIN).json()[
        "api_key"
    ]
    rotated.stop()

    # the old key retired: what it made stops working, what the new one made goes on
    retired = start_otpgate(**database, OTPGATE_SECRET_KEY=NEW_KEY)
    assert as_app(retired, old_api_key).list().status_code == 401
    new = as_app(retired, new_api_key)
    assert new.list().status_code == 200
    started = new.started()
    assert new.check(started["id"], new.code_of(started)).json()["valid"] is True
