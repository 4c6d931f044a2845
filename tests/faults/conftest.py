"""Fault tests: real `otpgate serve` processes under load, a fault injected, the history of
requests and answers checked against the invariants (docs/reliability.md)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from peers.faulty_gateway import FaultyGateway
from support.pg_cluster import OwnCluster, own_cluster
from support.postgres import ENGINES, PostgresDatabases


@pytest.fixture
def gateway() -> Iterator[FaultyGateway]:
    peer = FaultyGateway().start()
    yield peer
    peer.stop()


@pytest.fixture(params=ENGINES)
def engine_settings(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    """OTPGATE_ settings of the database under test: SQLite in the data dir, or a PostgreSQL
    database of its own on the shared server."""
    if request.param == "sqlite":
        yield {}
        return
    databases: PostgresDatabases = request.getfixturevalue("postgres_databases")
    with databases.fresh() as url:
        yield {"OTPGATE_DATABASE_URL": url, "OTPGATE_DATABASE_POOL_SIZE": "8"}


@pytest.fixture(name="own_cluster")
def own_cluster_fixture() -> Iterator[OwnCluster]:
    """A PostgreSQL cluster of the test's own, which it may stop, start and cut off."""
    with own_cluster() as cluster:
        yield cluster
