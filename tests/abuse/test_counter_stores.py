"""The counter stores themselves, on SQLite, PostgreSQL and Redis: all or nothing, room
without counting, and exact counts under concurrent callers."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy
from support.services import REDIS_URL, redis_prefix, require_redis

from otpgate.domain.limits import Bucket
from otpgate.service.ports import Counters
from otpgate.store import redis_counters
from otpgate.store.counters import SqlCounters
from otpgate.store.database import Database, open_database
from otpgate.store.migrate import upgrade

POSTGRES_URL = os.environ.get(
    "OTPGATE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def postgres_admin() -> sqlalchemy.Engine:
    return sqlalchemy.create_engine(POSTGRES_URL.replace("postgresql:", "postgresql+psycopg:"))


def fresh_postgres_schema() -> str:
    """A schema of this test's own in the shared `test` database (dropped afterwards)."""
    schema = f"counters_{uuid.uuid4().hex[:12]}"
    engine = postgres_admin()
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    except sqlalchemy.exc.OperationalError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL at {POSTGRES_URL} is unreachable: {exc}")
        pytest.skip(f"PostgreSQL at {POSTGRES_URL} is unreachable (set CI to make this a failure)")
    finally:
        engine.dispose()
    return schema


@dataclass
class CountersInTransactions:
    """A counter store, each call in a transaction of its own (as the abuse guard's refusal
    reports and the flood guard call it); Redis counts outside the transaction it is given."""

    counters: Counters
    database: Database

    def acquire(self, buckets: list[Bucket], now: datetime) -> int | None:
        with self.database.transaction() as tx:
            return self.counters.acquire(tx, buckets, now)

    def add(self, bucket: Bucket, now: datetime) -> int:
        with self.database.transaction() as tx:
            return self.counters.add(tx, bucket, now)

    def read(self, keys: list[str], now: datetime) -> list[int]:
        return self.counters.read(keys, now)


@pytest.fixture(params=["sqlite", "postgresql", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CountersInTransactions]:
    if request.param == "redis":
        require_redis()
        database = open_database(f"sqlite:///{tmp_path / 'unused-by-redis.db'}")
        yield CountersInTransactions(
            redis_counters.RedisCounters(redis_counters.connect(REDIS_URL), redis_prefix()),
            database,
        )
        database.dispose()
        return
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'counters.db'}"
    else:
        pytest.importorskip("psycopg", reason="the PostgreSQL driver is not installed")
        schema = fresh_postgres_schema()
        url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    database = open_database(url, pool_size=20)
    upgrade(database)
    yield CountersInTransactions(SqlCounters(database), database)
    database.dispose()
    if request.param == "postgresql":
        engine = postgres_admin()
        with engine.begin() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        engine.dispose()


def bucket(key: str, limit: int | None, cost: int = 1, consume: bool = True) -> Bucket:
    return Bucket(key, limit, cost, 600, consume)


def test_a_set_is_counted_all_or_nothing(store: CountersInTransactions) -> None:
    a, b = bucket("a", 3), bucket("b", 1)
    assert store.acquire([a, b], NOW) is None
    assert store.acquire([a, b], NOW) == 1  # b is full: a is not counted either
    assert store.read(["a", "b", "c"], NOW) == [1, 1, 0]
    assert store.acquire([bucket("a", 3, cost=2)], NOW) is None
    assert store.acquire([bucket("a", 3)], NOW) == 0
    assert store.acquire([bucket("d", 2, cost=3)], NOW) == 0  # never fits


def test_a_bucket_that_does_not_consume_only_needs_room(store: CountersInTransactions) -> None:
    assert store.add(bucket("failures", 2), NOW) == 1
    needs_room = bucket("failures", 2, consume=False)
    assert store.acquire([needs_room, bucket("sends", None)], NOW) is None
    assert store.read(["failures", "sends"], NOW) == [1, 1]
    assert store.add(bucket("failures", 2), NOW) == 2
    assert store.acquire([bucket("sends", None), needs_room], NOW) == 1
    assert store.read(["sends"], NOW) == [1]


def test_concurrent_callers_take_exactly_the_limit(store: CountersInTransactions) -> None:
    def take(_: int) -> bool:
        return store.acquire([bucket("shared", 5), bucket("unlimited", None)], NOW) is None

    with ThreadPoolExecutor(max_workers=16) as pool:
        taken = list(pool.map(take, range(60)))
    assert taken.count(True) == 5
    assert store.read(["shared", "unlimited"], NOW) == [5, 5]
