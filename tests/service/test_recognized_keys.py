"""`AppService.recognize`: a key read a moment ago is trusted for a few seconds (the check
proves it live in its own UPDATE); a wrong secret is refused from memory too."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event

from otpgate.domain.errors import Unauthorized
from otpgate.runtime import Runtime
from otpgate.service.apps import RECENT_KEY_SECONDS


def count_key_reads(runtime: Runtime) -> list[int]:
    reads = [0]

    def on_execute(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        if "FROM api_keys JOIN apps" in statement:
            reads[0] += 1

    event.listen(runtime.database.engine, "before_cursor_execute", on_execute)
    return reads


def test_a_recognized_key_is_read_again_only_after_its_seconds(
    runtime: Runtime, clock: Any
) -> None:
    app = runtime.apps.create_app("shop")
    key = runtime.apps.create_key(app.id)
    reads = count_key_reads(runtime)

    assert runtime.apps.recognize(key.key_id, key.secret).id == app.id
    clock.advance(RECENT_KEY_SECONDS - 1)
    assert runtime.apps.recognize(key.key_id, key.secret).id == app.id
    assert reads == [1]
    clock.advance(1)
    runtime.apps.recognize(key.key_id, key.secret)
    assert reads == [2]


def test_a_wrong_secret_or_an_unknown_key_is_refused_by_recognize(runtime: Runtime) -> None:
    app = runtime.apps.create_app("shop")
    key = runtime.apps.create_key(app.id)
    runtime.apps.recognize(key.key_id, key.secret)
    with pytest.raises(Unauthorized):
        runtime.apps.recognize(key.key_id, "wrong")
    with pytest.raises(Unauthorized):
        runtime.apps.recognize("key_unknown", key.secret)


def test_new_settings_reach_a_recognized_key_at_once_on_this_process(runtime: Runtime) -> None:
    app = runtime.apps.create_app("shop")
    key = runtime.apps.create_key(app.id)
    assert runtime.apps.recognize(key.key_id, key.secret).settings.max_attempts == 5
    runtime.apps.update_settings(app.id, {"max_attempts": 3})
    assert runtime.apps.recognize(key.key_id, key.secret).settings.max_attempts == 3
