"""The one executor: how every blocking call leaves the event loop (routes, delivery, sweeps).

Routes hand a call to `Runtime.run`, and the delivery worker, the receipts inbox, the expiry
sweep, the webhook dispatcher and the retention job hand theirs to the same executor:

- SQLite: the one writer thread of the group commit (store/group_commit.py). Every call, a
  read or a write, runs there in turn; the transactions of the calls queued meanwhile commit
  with one fsync, and each call's awaiting coroutine is answered after that commit.
- PostgreSQL: a thread pool the size of the connection pool less two. PostgreSQL runs
  transactions concurrently, so a thread per pooled connection keeps them all busy; the two
  left free are for the LISTEN connection's neighbours and calls outside the executor (the
  CLI, the migration at start). An async driver (psycopg's AsyncConnection) would need a
  second, async copy of every store: one concurrency model per layer (docs/performance.md).

Each call runs in a copy of the caller's context, so its log lines keep the request id.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from otpgate.store.group_commit import GroupCommit, Job

# pooled connections that the executor leaves to calls outside it: with all of them taken by
# a queue of checks, a CLI command or the LISTEN neighbour waited for seconds
POOL_CONNECTIONS_LEFT_FREE = 2

T = TypeVar("T")


class Executor:
    def __init__(self, group: GroupCommit | None, pool_size: int) -> None:
        self._group = group
        self._threads = (
            None
            if group is not None
            else ThreadPoolExecutor(
                max(1, pool_size - POOL_CONNECTIONS_LEFT_FREE), thread_name_prefix="otpgate-db"
            )
        )

    async def run(self, call: Callable[[], T]) -> T:
        """Run a blocking call off the event loop and await its outcome."""
        loop = asyncio.get_running_loop()
        context = contextvars.copy_context()  # the request's log context goes with it
        if self._group is None:
            assert self._threads is not None
            return await loop.run_in_executor(self._threads, context.run, call)
        job = Job(call, context, loop, loop.create_future())
        self._group.submit(job)
        result: T = await job.future
        return result

    def shutdown(self) -> None:
        if self._threads is not None:
            self._threads.shutdown()
