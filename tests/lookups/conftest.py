"""Lookup tests run the real ASGI app with Vonage Number Insight (advanced) as the lookup
provider: a local server speaking its documented requests and answers (peers/number_insight.py),
on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from peers.number_insight import API_KEY, API_SECRET, FakeNumberInsight
from support.native import NativeApi

from otpgate.config import Settings

ADMIN_TOKEN = "test-admin-token-0123456789"  # the root conftest's: its admin_headers hold it
SECRET_KEY = "test-secret-key-0123456789abcdefghijklmnop"


@pytest.fixture
def insight() -> Iterator[FakeNumberInsight]:
    peer = FakeNumberInsight()
    peer.start()
    yield peer
    peer.stop()


@pytest.fixture
def lookup_settings() -> dict[str, Any]:
    """Process settings a test adds (parametrize this fixture to change them)."""
    return {}


@pytest.fixture
def settings(
    tmp_path: Path,
    database_url: str | None,
    insight: FakeNumberInsight,
    lookup_settings: dict[str, Any],
) -> Settings:
    values: dict[str, Any] = {
        "data_dir": tmp_path / "data",
        "admin_token": ADMIN_TOKEN,
        "secret_key": SECRET_KEY,
        "database_url": database_url,
        "lookup_provider": "vonage",
        "vonage_api_key": API_KEY,
        "vonage_api_secret": API_SECRET,
        "vonage_insight_base_url": insight.url,
        "vonage_insight_level": "advanced",
        "lookup_timeout_seconds": 2.0,  # generous: the machine may be busy
        **lookup_settings,
    }
    return Settings(_env_file=None, **values)


@pytest.fixture
def api_with(client: TestClient, make_app: Any) -> Callable[..., NativeApi]:
    """The native API as a new app with the given settings sees it."""
    return lambda **settings: NativeApi(client, make_app(settings).headers)
