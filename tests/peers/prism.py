"""Prism serving Twilio's own OpenAPI descriptions (from npm `@twilio/cli-core`): a contract
check of the requests we make to the Messages API and to Lookup v2. `make peers` installs
them in `.peers/`."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import httpx

from peers.otpgate import reserve_port

PEERS = Path(__file__).resolve().parents[2] / ".peers"
PRISM = PEERS / "node_modules" / ".bin" / "prism"
TWILIO_SPEC = PEERS / "twilio_api_v2010.json"
TWILIO_LOOKUP_SPEC = PEERS / "twilio_lookups_v2.json"


def installed(spec: Path = TWILIO_SPEC) -> bool:
    return PRISM.exists() and spec.exists()


class Prism:
    def __init__(self, log: Path, spec: Path = TWILIO_SPEC, *, errors: bool = True) -> None:
        self._spec = spec
        # --errors also refuses answers that break the spec: Lookup v2's own examples do
        # (nulls where its schemas say object), so its requests are validated without it
        self._errors = errors
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
                *(["--errors"] if self._errors else []),
                str(self._spec),
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
