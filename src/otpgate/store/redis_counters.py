"""Rate-limit counters in Redis: one Lua script per call, so a set of buckets is checked and
counted atomically whichever process or node calls (Redis runs scripts one at a time)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import redis

from otpgate.domain.limits import Bucket
from otpgate.service.ports import Transaction

# KEYS: the buckets; ARGV: limit (-1: none), cost, ttl seconds, consume (1/0) per bucket.
# Returns 0 when all were counted, else the 1-based index of the first without room.
_ACQUIRE = """
for i = 1, #KEYS do
  local limit = tonumber(ARGV[4 * i - 3])
  local cost = tonumber(ARGV[4 * i - 2])
  if limit >= 0 and tonumber(redis.call('GET', KEYS[i]) or '0') + cost > limit then
    return i
  end
end
for i = 1, #KEYS do
  if ARGV[4 * i] == '1' then
    local cost = tonumber(ARGV[4 * i - 2])
    if redis.call('INCRBY', KEYS[i], cost) == cost then
      redis.call('EXPIRE', KEYS[i], ARGV[4 * i - 1])
    end
  end
end
return 0
"""

_ADD = """
local total = redis.call('INCRBY', KEYS[1], ARGV[1])
if total == tonumber(ARGV[1]) then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return total
"""


class RedisCounters:
    def __init__(self, client: redis.Redis, key_prefix: str) -> None:
        self._client = client
        self._prefix = key_prefix
        self._acquire = client.register_script(_ACQUIRE)
        self._add = client.register_script(_ADD)

    def acquire(self, tx: Transaction, buckets: Sequence[Bucket], now: datetime) -> int | None:
        # Redis counts at once, outside `tx`: a start that fails after this keeps its counts
        args: list[int] = []
        for bucket in buckets:
            limit = -1 if bucket.limit is None else bucket.limit
            args += [limit, bucket.cost, bucket.ttl_seconds, int(bucket.consume)]
        refused = int(self._acquire(keys=[self._prefix + b.key for b in buckets], args=args))
        return None if refused == 0 else refused - 1

    def add(self, tx: Transaction, bucket: Bucket, now: datetime) -> int:
        return int(
            self._add(keys=[self._prefix + bucket.key], args=[bucket.cost, bucket.ttl_seconds])
        )

    def read(self, keys: Sequence[str], now: datetime) -> list[int]:
        values = self._client.mget([self._prefix + key for key in keys])
        return [int(value or 0) for value in values]


def connect(url: str) -> redis.Redis:
    # short timeouts: a Redis that does not answer must not hold a request for long
    return redis.Redis.from_url(
        url, socket_timeout=0.5, socket_connect_timeout=0.5, health_check_interval=30
    )
