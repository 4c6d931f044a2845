"""What the analytics and console benchmarks share: a seeded database, a served otpgate, timing.

The database is filled straight through the store's tables (as bench/seed.py does): a million
verifications through the API would take the benchmark hours and measure the API instead.
"""

from __future__ import annotations

import os
import secrets
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import insert

from otpgate.config import Settings
from otpgate.runtime import SystemRandom, build_runtime, migrate
from otpgate.service.ids import new_id
from otpgate.store.tables import messages, verifications

VENV_BIN = Path(sys.executable).parent
SECRET_KEY = "bench-secret-key-0123456789abcdefghijklmnop"
ADMIN_TOKEN = "bench-admin-token-0123456789"
BATCH = 20_000
COUNTRIES = (("GB", "+4474"), ("FR", "+3366"), ("DE", "+4915"), ("US", "+1201"))


def prepare(data_dir: Path) -> tuple[str, str]:
    """A migrated database with one app; returns the app's id and API key."""
    settings = Settings(
        data_dir=data_dir, secret_key=SECRET_KEY, admin_token=ADMIN_TOKEN, _env_file=None
    )
    runtime = build_runtime(settings)
    try:
        migrate(runtime)
        app = runtime.apps.create_app("bench", {"fraud_guard": False})
        key = runtime.apps.create_key(app.id)
    finally:
        runtime.close()
    return app.id, key.api_key


def seed(data_dir: Path, app_id: str, count: int, *, newest: datetime, days: float) -> None:
    """`count` verifications with one message each, created evenly over the `days` before
    `newest`; two in three approved, most messages delivered."""
    settings = Settings(
        data_dir=data_dir, secret_key=SECRET_KEY, admin_token=ADMIN_TOKEN, _env_file=None
    )
    runtime = build_runtime(settings)
    random = SystemRandom()
    span = timedelta(days=days)
    try:
        rows: list[dict[str, object]] = []
        sent: list[dict[str, object]] = []
        for index in range(count):
            created = newest - span * (index / max(count, 1))
            verification_id = new_id("ver", created, random)
            message_id = new_id("msg", created, random)
            country, prefix = COUNTRIES[index % len(COUNTRIES)]
            approved = index % 3 != 0
            delivered = index % 20 != 0
            rows.append(
                _verification(
                    verification_id, app_id, country, prefix, index, created, approved, message_id
                )
            )
            sent.append(
                _message(message_id, app_id, verification_id, prefix, index, created, delivered)
            )
            if len(rows) == BATCH:
                _write(runtime.database, rows, sent)
                rows, sent = [], []
        if rows:
            _write(runtime.database, rows, sent)
    finally:
        runtime.close()


def _verification(
    verification_id: str,
    app_id: str,
    country: str,
    prefix: str,
    index: int,
    created: datetime,
    approved: bool,
    message_id: str,
) -> dict[str, object]:
    return {
        "id": verification_id, "app_id": app_id, "to_number": f"{prefix}{index:08d}",
        "channel": "sms", "status": "approved" if approved else "expired", "country": country,
        "line_type": "mobile", "attempts": 1, "max_attempts": 5, "sends": 1,
        "delivery_status": "delivered", "external_id": None, "reference": None,
        "code_hash": secrets.token_hex(32), "code_sealed": None, "last_message_id": message_id,
        "created_at": created, "expires_at": created + timedelta(minutes=10),
        "approved_at": created + timedelta(seconds=20) if approved else None,
        "last_sent_at": created, "updated_at": created,
    }  # fmt: skip


def _message(
    message_id: str,
    app_id: str,
    verification_id: str,
    prefix: str,
    index: int,
    created: datetime,
    delivered: bool,
) -> dict[str, object]:
    return {
        "id": message_id, "app_id": app_id, "verification_id": verification_id,
        "to_number": f"{prefix}{index:08d}", "sender": None, "body_sealed": None,
        "status": "delivered" if delivered else "undelivered", "provider": "http",
        "provider_message_id": message_id, "attempts": 1, "last_error": None,
        "next_attempt_at": created, "lease_until": None, "created_at": created,
        "sent_at": created + timedelta(milliseconds=300),
        "updated_at": created + timedelta(seconds=4),
    }  # fmt: skip


def _write(database: object, rows: list[dict[str, object]], sent: list[dict[str, object]]) -> None:
    with database.transaction() as tx:  # type: ignore[attr-defined]
        tx.connection.execute(insert(verifications), rows)
        tx.connection.execute(insert(messages), sent)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@contextmanager
def served(data_dir: Path) -> Iterator[httpx.Client]:
    """`otpgate serve` on the seeded data dir; a client on it until the block ends."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTPGATE_")}
    env.update(
        OTPGATE_DATA_DIR=str(data_dir), OTPGATE_SECRET_KEY=SECRET_KEY,
        OTPGATE_ADMIN_TOKEN=ADMIN_TOKEN, OTPGATE_LOG_LEVEL="warning",
    )  # fmt: skip
    process = subprocess.Popen(
        [str(VENV_BIN / "otpgate"), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=data_dir.parent,
    )
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120)
    deadline = time.monotonic() + 60
    while True:
        try:
            if client.get("/healthz").status_code == 200:
                break
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"otpgate serve did not start: {process.communicate()[1][-2000:]}")
        time.sleep(0.1)
    try:
        yield client
    finally:
        client.close()
        process.terminate()
        process.wait(timeout=30)


def timed(call: Callable[[], object], repeats: int) -> dict[str, float]:
    """Milliseconds of `repeats` calls after one warm-up: median and p95 (nearest rank)."""
    call()
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {
        "median_ms": round(statistics.median(samples), 2),
        "p95_ms": round(samples[max(0, -(-95 * len(samples) // 100) - 1)], 2),
    }


def now() -> datetime:
    return datetime.now(UTC)
