"""Fixtures shared by every test: a real runtime on a fresh database (SQLite and PostgreSQL:
each test that takes `settings` or `database_url` runs once per engine), the real ASGI app, a
local SMS gateway, and (in e2e/) a real `otpgate serve` process."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from peers.gateway import FakeGateway, start_gateway
from support.postgres import ENGINES, PostgresDatabases, unreachable_reason

from otpgate.config import Settings
from otpgate.runtime import Runtime, build_runtime, migrate
from otpgate.server import create_app

ADMIN_TOKEN = "test-admin-token-0123456789"
SECRET_KEY = "test-secret-key-0123456789abcdefghijklmnop"


@dataclass
class FakeClock:
    """A clock the test moves; nothing sleeps to make a code expire."""

    current: datetime = field(default_factory=lambda: datetime(2026, 1, 1, 12, 0, tzinfo=UTC))

    def now(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)


@dataclass
class AppHandle:
    id: str
    name: str
    key_id: str
    secret: str
    api_key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that runs on PostgreSQL, so `-m "not postgresql"` leaves SQLite's."""
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        fixtures = getattr(item, "fixturenames", ())
        if "postgresql" in params.values() or "postgres_databases" in fixtures:
            item.add_marker(pytest.mark.postgresql)


def require_postgres() -> None:
    """Under CI a missing PostgreSQL fails the run; on a laptop its tests skip, saying why."""
    reason = unreachable_reason()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_databases() -> Iterator[PostgresDatabases]:
    """This run's PostgreSQL databases; all dropped at the end."""
    require_postgres()
    databases = PostgresDatabases().start()
    yield databases
    databases.stop()


@pytest.fixture(params=ENGINES)
def database_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """None: SQLite in the test's data dir; else a fresh, migrated PostgreSQL database."""
    if request.param == "sqlite":
        yield None
        return
    databases: PostgresDatabases = request.getfixturevalue("postgres_databases")
    with databases.fresh() as url:
        yield url


@pytest.fixture
def settings(tmp_path: Path, database_url: str | None) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        admin_token=ADMIN_TOKEN,
        secret_key=SECRET_KEY,
        database_url=database_url,
        _env_file=None,
    )


@pytest.fixture
def runtime(settings: Settings, clock: FakeClock) -> Iterator[Runtime]:
    built = build_runtime(settings, clock=clock)
    migrate(built)
    yield built
    built.close()


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def admin_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def make_app(client: TestClient, admin_headers: dict[str, str]) -> Any:
    """Create an app (with settings) and a key for it, through the admin API."""
    counter = iter(range(1_000_000))

    def make(settings: dict[str, Any] | None = None, name: str | None = None) -> AppHandle:
        name = name or f"app-{next(counter)}"
        created = client.post(
            "/v1/apps", json={"name": name, "settings": settings or {}}, headers=admin_headers
        )
        assert created.status_code == 201, created.text
        app_id = created.json()["id"]
        key = client.post(f"/v1/apps/{app_id}/keys", headers=admin_headers)
        assert key.status_code == 201, key.text
        body = key.json()
        return AppHandle(app_id, name, body["key_id"], body["secret"], body["api_key"])

    return make


@pytest.fixture
def app(make_app: Any) -> AppHandle:
    return make_app()


def read_code(client: Any, headers: dict[str, str], to: str, *, timeout: float = 2.0) -> str:
    """The code in the newest outbox message to `to`, as a person would read it on the phone."""
    import re

    deadline = time.monotonic() + timeout
    while True:
        messages = client.get(
            "/v1/dev/outbox", params={"to": to, "limit": 1}, headers=headers
        ).json()["messages"]
        if messages:
            found = re.search(r"\b[0-9a-z]{4,10}\b(?=[^0-9a-z]*$)", messages[0]["body"])
            assert found, messages[0]["body"]
            return found.group(0)
        if time.monotonic() > deadline:
            raise AssertionError(f"no outbox message for {to} within {timeout}s")
        time.sleep(0.01)


@pytest.fixture
def gateway() -> Iterator[FakeGateway]:
    """A generic SMS gateway on a free port (peers/gateway.py)."""
    peer = start_gateway()
    yield peer
    peer.stop()
