"""Prism serving Twilio's own OpenAPI description (from npm `@twilio/cli-core`): a contract
check of the requests we make to the Messages API. `make peers` installs both in `.peers/`."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import httpx

from peers.otpgate import reserve_port

PEERS = Path(__file__).resolve().parents[2] / ".peers"
PRISM = PEERS / "node_modules" / ".bin" / "prism"
TWILIO_SPEC = PEERS / "twilio_api_v2010.json"


def installed() -> bool:
    return PRISM.exists() and TWILIO_SPEC.exists()


class Prism:
    def __init__(self, log: Path) -> None:
        sock = reserve_port()
        self.port = sock.getsockname()[1]
        sock.close()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = log
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> Prism:
        self._process = subprocess.Popen(
            [
                str(PRISM),
                "mock",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "--errors",
                str(TWILIO_SPEC),
            ],
            stdout=self._log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(self.url + "/", timeout=0.5)
                return self
            except httpx.HTTPError:
                if self._process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"prism did not start; see {self._log}") from None
                time.sleep(0.1)

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=5)
        self._process = None
