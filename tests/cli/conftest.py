"""CLI tests run the `otpgate` command as a subprocess over a fresh data dir."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from support.served import OTPGATE, clean_environment

from otpgate.config import Settings
from otpgate.runtime import build_runtime, migrate


@dataclass(frozen=True)
class Ran:
    """One finished `otpgate` command."""

    status: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        assert self.status == 0, self.stderr
        return json.loads(self.stdout)

    def json_lines(self) -> list[Any]:
        assert self.status == 0, self.stderr
        return [json.loads(line) for line in self.stdout.splitlines()]


class OtpgateCommand:
    """`otpgate ARGS…` on one data dir, as a person would type it in a shell."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.data_dir = workdir / "data"
        self.env = clean_environment(self.data_dir)

    def __call__(self, *args: str) -> Ran:
        return self.together([args])[0]

    def together(self, commands: list[tuple[str, ...]]) -> list[Ran]:
        """Run independent commands side by side (each one starts a Python process)."""
        running = [
            subprocess.Popen(
                [OTPGATE, *args],
                env=self.env,
                cwd=self.workdir,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for args in commands
        ]
        finished = []
        for process in running:
            stdout, stderr = process.communicate(timeout=60)
            finished.append(Ran(process.returncode, stdout, stderr))
        return finished


@pytest.fixture
def otpgate_command(tmp_path: Path) -> OtpgateCommand:
    return OtpgateCommand(tmp_path)


def create_app_in(data_dir: Path, name: str, **settings: Any) -> None:
    """Set-up without a process start: the app the commands under test work on."""
    runtime = build_runtime(Settings(data_dir=data_dir, _env_file=None))  # type: ignore[call-arg]
    try:
        migrate(runtime)
        runtime.apps.create_app(name, settings)
    finally:
        runtime.close()
