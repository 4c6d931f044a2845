"""Abuse tests run every limit on both counter stores: the database, and a real Redis."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from support.native import NativeApi

from otpgate.config import Settings

REDIS_URL = os.environ.get("OTPGATE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
ADMIN_TOKEN = "test-admin-token-0123456789"
SECRET_KEY = "test-secret-key-0123456789abcdefghijklmnop"


def require_redis() -> None:
    """Fail under CI, skip elsewhere, when the Redis the tests need does not answer."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"Redis at {REDIS_URL} is unreachable: {exc}")
        pytest.skip(f"Redis at {REDIS_URL} is unreachable (set CI to make this a failure)")


def redis_prefix() -> str:
    """A key prefix of this test alone, so runs and tests never see each other's counts."""
    return f"otpgate-test:{uuid.uuid4().hex}:"


@pytest.fixture(params=["database", "redis"])
def counters(request: pytest.FixtureRequest) -> str:
    if request.param == "redis":
        require_redis()
    return str(request.param)


@pytest.fixture
def settings(tmp_path: Path, counters: str) -> Settings:
    extra: dict[str, Any] = {}
    if counters == "redis":
        extra = {"redis_url": REDIS_URL, "redis_key_prefix": redis_prefix()}
    return Settings(data_dir=tmp_path / "data", admin_token=ADMIN_TOKEN, secret_key=SECRET_KEY,
                    _env_file=None, **extra)  # fmt: skip


@pytest.fixture
def api_with(client: TestClient, make_app: Any) -> Callable[..., NativeApi]:
    """The native API as a new app with the given settings sees it."""

    def make(**settings: Any) -> NativeApi:
        return NativeApi(client, make_app(settings).headers)

    return make
