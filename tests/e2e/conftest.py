"""End-to-end tests start `otpgate serve` as a subprocess on a free port and talk HTTP to it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from support.served import ServedOtpgate, StartOtpgate, launch, serving


@pytest.fixture
def start_otpgate(tmp_path: Path) -> Iterator[StartOtpgate]:
    """Start `otpgate serve` (data dir, extra arguments and OTPGATE_ settings as given)."""
    started: list[ServedOtpgate] = []

    def start(*args: str, data_dir: Path | None = None, **settings: str) -> ServedOtpgate:
        served = launch(
            data_dir or tmp_path / "data",
            tmp_path / f"serve-{len(started)}.log",
            *args,
            **settings,
        )
        started.append(served)
        return served

    yield start
    for served in started:
        served.stop()


@pytest.fixture(scope="session")
def otpgate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedOtpgate]:
    """One `otpgate serve` for the tests that only need a running server with the defaults."""
    with serving(tmp_path_factory.mktemp("otpgate")) as served:
        yield served


@pytest.fixture(scope="session")
def two_processes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedOtpgate]:
    """`serve --workers 2`: two processes, each with its own pool, on one SQLite file."""
    with serving(tmp_path_factory.mktemp("two-processes"), "--workers", "2") as served:
        yield served
