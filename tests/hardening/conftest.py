"""The hardening tests (issue 14) start real `otpgate serve` processes and attack them from
outside: HTTP, or a raw socket where HTTP cannot say what a hostile client does."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from support.postgres import ENGINES, PostgresDatabases
from support.served import ServedOtpgate, StartOtpgate, launch


@pytest.fixture
def start_otpgate(tmp_path: Path) -> Iterator[StartOtpgate]:
    """Start `otpgate serve` (data dir, extra arguments and OTPGATE_ settings as given)."""
    started: list[ServedOtpgate] = []

    def start(*args: str, data_dir: Path | None = None, **settings: str) -> ServedOtpgate:
        served = launch(
            data_dir or tmp_path / "data", tmp_path / f"serve-{len(started)}.log", *args, **settings
        )
        started.append(served)
        return served

    yield start
    for served in started:
        served.stop()


@pytest.fixture(params=ENGINES)
def engine_settings(request: pytest.FixtureRequest) -> Iterator[Callable[[], dict[str, str]]]:
    """OTPGATE_ settings for a server on this engine: SQLite in its data dir, or a
    PostgreSQL database of its own (one per call, dropped after the test)."""
    with ExitStack() as cleanup:

        def make() -> dict[str, str]:
            if request.param == "sqlite":
                return {}
            databases: PostgresDatabases = request.getfixturevalue("postgres_databases")
            return {"OTPGATE_DATABASE_URL": cleanup.enter_context(databases.fresh())}

        yield make


def raw_connection(served: ServedOtpgate, timeout: float = 5.0) -> socket.socket:
    """A TCP connection to the server, for requests HTTP clients will not send."""
    host, port = served.url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=timeout)


def read_until_closed(connection: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (or the timeout)."""
    received = b""
    while chunk := connection.recv(65536):
        received += chunk
    return received
