"""End-to-end tests start `otpgate serve` as a subprocess on a free port and talk HTTP to it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from support.postgres import ENGINES, PostgresDatabases
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


@pytest.fixture(scope="session", params=ENGINES)
def engine_settings(request: pytest.FixtureRequest) -> Iterator[Callable[[], dict[str, str]]]:
    """Makes OTPGATE_ settings for one more server on this engine: SQLite in its data dir,
    or a PostgreSQL database of its own; the databases are dropped after the session."""
    with ExitStack() as cleanup:

        def make() -> dict[str, str]:
            if request.param == "sqlite":
                return {}
            databases: PostgresDatabases = request.getfixturevalue("postgres_databases")
            url = cleanup.enter_context(databases.fresh())
            return {"OTPGATE_DATABASE_URL": url, "OTPGATE_DATABASE_POOL_SIZE": "8"}

        yield make


@pytest.fixture(scope="session")
def otpgate(
    tmp_path_factory: pytest.TempPathFactory, engine_settings: Callable[[], dict[str, str]]
) -> Iterator[ServedOtpgate]:
    """One `otpgate serve` for the tests that only need a running server with the defaults."""
    with serving(tmp_path_factory.mktemp("otpgate"), **engine_settings()) as served:
        yield served


@pytest.fixture(scope="session")
def two_processes(
    tmp_path_factory: pytest.TempPathFactory, engine_settings: Callable[[], dict[str, str]]
) -> Iterator[ServedOtpgate]:
    """`serve --workers 2`: two processes, each with its own pool, on one database."""
    root = tmp_path_factory.mktemp("two-processes")
    with serving(root, "--workers", "2", **engine_settings()) as served:
        yield served
