"""Delivery tests run otpgate on a real port with a real provider peer behind it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from peers.otpgate import LiveOtpgate, StartOtpgate, reserve_port
from peers.smsc_process import SmscProcess

from otpgate.config import Settings
from otpgate.runtime import build_runtime, migrate

ADMIN_TOKEN = "delivery-admin-token-0123456789"
SECRET_KEY = "delivery-secret-key-0123456789abcdefghijkl"


@pytest.fixture
def smsc(tmp_path: Path) -> Iterator[SmscProcess]:
    """The SMSC simulator, a process of its own, logging every submit it took."""
    with SmscProcess(tmp_path / "submits.jsonl") as process:
        yield process


@pytest.fixture
def start_otpgate(tmp_path: Path) -> Iterator[StartOtpgate]:
    """Start otpgate with the given settings; OTPGATE_PUBLIC_URL is its own address."""
    started: list[LiveOtpgate] = []

    def start(**settings: Any) -> LiveOtpgate:
        sock = reserve_port()
        port = sock.getsockname()[1]
        values: dict[str, Any] = {
            "data_dir": tmp_path / f"data-{len(started)}",
            "admin_token": ADMIN_TOKEN,
            "secret_key": SECRET_KEY,
            "public_url": f"http://127.0.0.1:{port}",
            "delivery_retry_base_seconds": 0.05,
            **settings,
        }
        runtime = build_runtime(Settings(_env_file=None, **values))  # type: ignore[call-arg]
        migrate(runtime)
        live = LiveOtpgate(runtime, sock, ADMIN_TOKEN).start()
        started.append(live)
        return live

    yield start
    for live in started:
        live.stop()
