"""The shared services some tests need (Redis, PostgreSQL): found, or failed under CI."""

from __future__ import annotations

import os
import uuid

import pytest
import redis

REDIS_URL = os.environ.get("OTPGATE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


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
