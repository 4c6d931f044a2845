"""A real `otpgate serve` process on a free port: started, waited for, read from, stopped."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx

from support.native import NativeApi

OTPGATE = str(Path(sys.executable).parent / "otpgate")
START_TIMEOUT = 20.0
# the HTTP server every served test runs on unless it names one (`serve --server`); unset,
# `serve`'s default. Kept from the server's own environment, as every OTPGATE_ variable is
SERVER = os.environ.get("OTPGATE_TEST_SERVER")


def clean_environment(data_dir: Path, **settings: str) -> dict[str, str]:
    """The test runner's environment without any OTPGATE_ setting, plus the given ones."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTPGATE_")}
    return {**env, "OTPGATE_DATA_DIR": str(data_dir), **settings}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@dataclass
class ServedOtpgate:
    """One `otpgate serve` process, its data dir and its captured output."""

    process: subprocess.Popen[bytes]
    url: str
    data_dir: Path
    log_path: Path
    log_file: IO[bytes]
    settings: dict[str, str] = field(default_factory=dict)  # OTPGATE_ settings it started with
    first_start: dict[str, Any] | None = None  # what `serve --json` printed, if anything
    stdout: bytes = b""
    http: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.http = httpx.Client(base_url=self.url, timeout=30)

    @property
    def admin_headers(self) -> dict[str, str]:
        assert self.first_start is not None and self.first_start["admin_token"]
        return {"Authorization": f"Bearer {self.first_start['admin_token']}"}

    def default_app(self) -> NativeApi:
        assert self.first_start is not None and self.first_start["api_key"]
        return NativeApi(self.http, {"Authorization": f"Bearer {self.first_start['api_key']}"})

    def new_app(self, name: str, **settings: Any) -> NativeApi:
        """An app with its own key, through the admin API."""
        created = self.http.post(
            "/v1/apps", json={"name": name, "settings": settings}, headers=self.admin_headers
        )
        assert created.status_code == 201, created.text
        key = self.http.post(f"/v1/apps/{created.json()['id']}/keys", headers=self.admin_headers)
        return NativeApi(self.http, {"Authorization": f"Bearer {key.json()['api_key']}"})

    def command_environment(self) -> dict[str, str]:
        """The environment for an `otpgate` command on this server's data and database."""
        return clean_environment(self.data_dir, **self.settings)

    def read_stdout(self) -> bytes:
        """What the process wrote to stdout since the last read (never blocks)."""
        assert self.process.stdout is not None
        try:
            chunk = self.process.stdout.read() or b""
        except BlockingIOError:
            chunk = b""
        self.stdout += chunk
        return chunk

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> int:
        """SIGTERM, as a service manager would; returns the exit status."""
        self.http.close()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.read_stdout()
        self.log_file.close()
        return self.process.returncode


def launch(
    data_dir: Path,
    log_path: Path,
    *args: str,
    port: int | None = None,
    start_timeout: float = START_TIMEOUT,
    **settings: str,
) -> ServedOtpgate:
    """Start `otpgate serve --json` (on `port`, else a free one) and return once /healthz
    answers."""
    port = port or free_port()
    if SERVER is not None and "--server" not in args:
        args = ("--server", SERVER, *args)
    log_file = log_path.open("wb")
    process = subprocess.Popen(
        [OTPGATE, "serve", "--json", "--host", "127.0.0.1", "--port", str(port), *args],
        stdout=subprocess.PIPE,
        stderr=log_file,
        env=clean_environment(data_dir, **settings),
        cwd=data_dir.parent,  # no stray .env file
    )
    assert process.stdout is not None
    os.set_blocking(process.stdout.fileno(), False)
    served = ServedOtpgate(
        process, f"http://127.0.0.1:{port}", data_dir, log_path, log_file, settings
    )
    deadline = time.monotonic() + start_timeout
    while True:
        if process.poll() is not None:
            served.stop()
            raise AssertionError(f"otpgate serve exited {process.returncode}: {served.logs()}")
        try:
            if served.http.get("/healthz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            served.stop()
            raise AssertionError(f"otpgate serve did not answer /healthz: {served.logs()}")
        time.sleep(0.05)
    # the first-start announcement is written and flushed before the server listens
    printed = served.read_stdout().decode().strip()
    served.first_start = json.loads(printed) if printed else None
    return served


@contextmanager
def serving(root: Path, *args: str, **settings: str) -> Iterator[ServedOtpgate]:
    """`launch` with its data and log under `root`, stopped when the block ends."""
    served = launch(root / "data", root / "serve.log", *args, **settings)
    try:
        yield served
    finally:
        served.stop()


StartOtpgate = Callable[..., ServedOtpgate]  # the `start_otpgate` fixture
