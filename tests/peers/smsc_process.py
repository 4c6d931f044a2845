"""Start, drop, restart and read the SMSC simulator (`peers.smsc`) as a separate process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from support.certificates import ServerCertificate

from peers.otpgate import reserve_port

TESTS = Path(__file__).resolve().parent.parent


class SmscProcess:
    def __init__(
        self,
        log: Path,
        *,
        dlr_delay: float = 0.05,
        throttle_times: int = 2,
        tls: ServerCertificate | None = None,
        tls_client_ca: Path | None = None,
    ) -> None:
        sock = reserve_port()
        self.port = sock.getsockname()[1]
        sock.close()
        self.log = log
        self.options = ["--dlr-delay", str(dlr_delay), "--throttle-times", str(throttle_times)]
        if tls is not None:
            self.options += ["--tls-cert", str(tls.cert_file), "--tls-key", str(tls.key_file)]
        if tls_client_ca is not None:
            self.options += ["--tls-client-ca", str(tls_client_ca)]
        self._process: subprocess.Popen[str] | None = None

    @property
    def arguments(self) -> list[str]:
        return ["--port", str(self.port), "--log", str(self.log), *self.options]

    def start(self) -> SmscProcess:
        environment = {**os.environ, "PYTHONPATH": str(TESTS)}
        self._process = subprocess.Popen(
            [sys.executable, "-m", "peers.smsc", *self.arguments],
            stdout=subprocess.PIPE,
            text=True,
            env=environment,
        )
        assert self._process.stdout is not None
        line = self._process.stdout.readline()  # "ready" once it listens
        if line.strip() != "ready":
            self.stop()
            raise RuntimeError(f"the SMSC simulator did not start: {line!r}")
        return self

    def __enter__(self) -> SmscProcess:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.kill()  # an abrupt end, as a crashed SMSC would be
            self._process.wait(timeout=10)
        self._process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def drop_links(self) -> None:
        """The SMSC unbinds every session, mid-stream."""
        assert self._process is not None
        self._process.send_signal(signal.SIGUSR1)

    def submits(self) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines() if line.strip()]

    def accepted(self) -> list[dict[str, Any]]:
        return [submit for submit in self.submits() if submit["status"] == "accepted"]
