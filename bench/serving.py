"""What the analytics and console benchmarks share: a seeded database, a served otpgate, timing.

The database is filled straight through the store's tables (as bench/seed.py does): a million
verifications through the API would take the benchmark hours and measure the API instead.
"""

from __future__ import annotations

import base64
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

from otpgate.config import Settings
from otpgate.runtime import build_runtime, migrate
from otpgate.store.database import Database

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
    `newest`; two in three approved, most messages delivered. Written with the SQLite driver's
    own executemany: SQLAlchemy's parameter processing was three quarters of the time."""
    settings = Settings(
        data_dir=data_dir, secret_key=SECRET_KEY, admin_token=ADMIN_TOKEN, _env_file=None
    )
    runtime = build_runtime(settings)
    assert runtime.database.is_sqlite, "the benchmark seeds SQLite"
    span = timedelta(days=days)
    try:
        rows: list[tuple[object, ...]] = []
        sent: list[tuple[object, ...]] = []
        for index in range(count):
            created = newest - span * (index / max(count, 1))
            verification_id = _id("ver", created, index)
            message_id = _id("msg", created, index)
            country, prefix = COUNTRIES[index % len(COUNTRIES)]
            number = f"{prefix}{index:08d}"
            approved = index % 3 != 0
            at = _stored(created)
            rows.append((
                verification_id, app_id, number, "approved" if approved else "expired", country,
                secrets.token_hex(32), message_id, at, _stored(created + timedelta(minutes=10)),
                _stored(created + timedelta(seconds=20)) if approved else None,
            ))  # fmt: skip
            sent.append((
                message_id, app_id, verification_id, number,
                "delivered" if index % 20 else "undelivered", message_id, at,
                _stored(created + timedelta(milliseconds=300)),
                _stored(created + timedelta(seconds=4)),
            ))  # fmt: skip
            if len(rows) == BATCH:
                _write(runtime.database, rows, sent)
                rows, sent = [], []
        if rows:
            _write(runtime.database, rows, sent)
    finally:
        runtime.close()


def _id(prefix: str, moment: datetime, serial: int) -> str:
    """An id as `new_id` makes it (time first, so ranges work), with a serial for randomness."""
    millis = int(moment.timestamp() * 1000).to_bytes(6, "big")
    return f"{prefix}_{base64.b32hexencode(millis + serial.to_bytes(9, 'big')).decode().lower()}"


def _stored(moment: datetime) -> str:
    """A time as SQLAlchemy stores it in SQLite: naive UTC text."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


_VERIFICATION_ROW = (
    "INSERT INTO verifications (id, app_id, to_number, channel, status, country, line_type, "
    "attempts, max_attempts, sends, delivery_status, code_hash, last_message_id, created_at, "
    "expires_at, approved_at, last_sent_at, updated_at) VALUES "
    "(?, ?, ?, 'sms', ?, ?, 'mobile', 1, 5, 1, 'delivered', ?, ?, ?, ?, ?, ?8, ?8)"
)
_MESSAGE_ROW = (
    "INSERT INTO messages (id, app_id, verification_id, to_number, status, provider, "
    "provider_message_id, attempts, next_attempt_at, created_at, sent_at, updated_at) VALUES "
    "(?, ?, ?, ?, ?, 'http', ?, 1, ?7, ?7, ?, ?)"
)


def _write(
    database: Database, rows: list[tuple[object, ...]], sent: list[tuple[object, ...]]
) -> None:
    with database.transaction() as tx:
        cursor = tx.connection.connection.cursor()
        cursor.executemany(_VERIFICATION_ROW, rows)
        cursor.executemany(_MESSAGE_ROW, sent)


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
        # the seeded year stays: the retention job deleting it would be measured too
        OTPGATE_RETENTION_DAYS="3650",
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
