"""Rate-limit counters in the database, for deployments without Redis (and when it is down).

Each acquire is a set of conditional upserts in the transaction it is handed (a start's
own): `count + cost <= limit` is checked by the database on the row it locks, so
concurrent processes cannot both take the last unit, and a refusal rolls the set back.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, delete, select

from otpgate.domain.limits import Bucket
from otpgate.service.ports import Transaction
from otpgate.store.database import Database
from otpgate.store.driver import DriverStatement, release, rollback_to, savepoint
from otpgate.store.tables import UtcDateTime, rate_counters
from otpgate.store.transaction import connection_of

c = rate_counters.c
_CURRENT = select(c.count).where(
    c.key == bindparam("key"), c.expires_at > bindparam("now", type_=UtcDateTime())
)


def _upsert(database: Database, *, limited: bool) -> Any:
    """Add `cost` to the counter at `key` (created if it is not there) and set its
    `expires_at`; `limited`: only while the sum stays within `limit`, else no row comes back."""
    statement = database.insert(rate_counters).values(
        key=bindparam("key"),
        count=bindparam("cost"),
        expires_at=bindparam("expires_at", type_=UtcDateTime()),
    )
    return statement.on_conflict_do_update(
        index_elements=[c.key],
        set_={
            "count": c.count + statement.excluded.count,
            "expires_at": statement.excluded.expires_at,
        },
        where=(c.count + statement.excluded.count <= bindparam("limit")) if limited else None,
    ).returning(c.count)


def _values(bucket: Bucket, now: datetime) -> dict[str, Any]:
    return {
        "key": bucket.key,
        "cost": bucket.cost,
        "expires_at": now + timedelta(seconds=bucket.ttl_seconds),
    }


class _Refused(Exception):
    def __init__(self, index: int) -> None:
        self.index = index


class SqlCounters:
    def __init__(self, database: Database) -> None:
        self._database = database
        # built once, and run on the driver: a start runs six of these, and through Core each
        # cost more CPU than SQLite spends running it (store/driver.py)
        self._upsert = DriverStatement(_upsert(database, limited=False))
        self._upsert_within_limit = DriverStatement(_upsert(database, limited=True))

    def acquire(self, tx: Transaction, buckets: Sequence[Bucket], now: datetime) -> int | None:
        # keys in one order in every transaction: two acquires never wait on each other crosswise
        order = sorted(range(len(buckets)), key=lambda index: buckets[index].key)
        for index in order:
            bucket = buckets[index]
            if bucket.limit is not None and bucket.cost > bucket.limit:
                return index
        # a savepoint: inside a start's transaction, a refusal undoes only these counts
        connection = connection_of(tx)
        savepoint(connection, "counters")
        try:
            for index in order:
                if not self._take(connection, buckets[index], now):
                    raise _Refused(index)
        except BaseException as failed:
            rollback_to(connection, "counters")
            release(connection, "counters")
            if isinstance(failed, _Refused):
                return failed.index
            raise
        release(connection, "counters")
        return None

    def _take(self, connection: Connection, bucket: Bucket, now: datetime) -> bool:
        if not bucket.consume:
            current = connection.execute(_CURRENT, {"key": bucket.key, "now": now}).scalar()
            return bucket.limit is None or (current or 0) + bucket.cost <= bucket.limit
        values = _values(bucket, now)
        if bucket.limit is None:
            return bool(self._upsert.execute(connection, values))
        values["limit"] = bucket.limit
        return bool(self._upsert_within_limit.execute(connection, values))

    def add(self, tx: Transaction, bucket: Bucket, now: datetime) -> int:
        [(count,)] = self._upsert.execute(connection_of(tx), _values(bucket, now))
        return int(count)

    def read(self, keys: Sequence[str], now: datetime) -> list[int]:
        with self._database.read() as connection:
            found = dict(
                connection.execute(
                    select(c.key, c.count).where(c.key.in_(keys), c.expires_at > now)
                ).all()
            )
        return [int(found.get(key, 0)) for key in keys]

    def purge(self, tx: Transaction, now: datetime) -> int:
        """Drop counters whose window is over (their keys are never used again)."""
        result = connection_of(tx).execute(
            delete(rate_counters).where(c.expires_at <= bindparam("now", type_=UtcDateTime())),
            {"now": now},
        )
        return int(result.rowcount)
