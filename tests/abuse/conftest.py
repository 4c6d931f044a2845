"""Abuse tests run every limit on both counter stores: the database, and a real Redis."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from support.native import NativeApi
from support.services import REDIS_URL, redis_prefix, require_redis

from otpgate.config import Settings

ADMIN_TOKEN = "test-admin-token-0123456789"
SECRET_KEY = "test-secret-key-0123456789abcdefghijklmnop"


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
