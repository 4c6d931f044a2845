"""Which database errors are an outage (the database down, unreachable or out of space) rather
than a bug, and the stable code a refusal names each by."""

from __future__ import annotations

import sqlite3

from sqlalchemy.exc import (
    DBAPIError,
    DisconnectionError,
    InterfaceError,
    OperationalError,
    PendingRollbackError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout

STORAGE_FULL = "storage_full"
DATABASE_UNAVAILABLE = "database_unavailable"

# SQLite's primary result codes (the low byte of an extended one) that are the disk or another
# process, not the statement: full, I/O error, busy past the timeout, locked, cannot open
_SQLITE_OUTAGES = {
    sqlite3.SQLITE_FULL: STORAGE_FULL,
    sqlite3.SQLITE_IOERR: DATABASE_UNAVAILABLE,
    sqlite3.SQLITE_BUSY: DATABASE_UNAVAILABLE,
    sqlite3.SQLITE_LOCKED: DATABASE_UNAVAILABLE,
    sqlite3.SQLITE_CANTOPEN: DATABASE_UNAVAILABLE,
}


def outage_code(error: BaseException) -> str | None:
    """`storage_full` or `database_unavailable` when `error` is an outage, else None."""
    original = error.orig if isinstance(error, DBAPIError) else error
    if isinstance(original, sqlite3.Error):
        # the group commit's savepoints reach the driver directly, unwrapped
        code = getattr(original, "sqlite_errorcode", None)
        return None if code is None else _SQLITE_OUTAGES.get(code & 0xFF)
    if isinstance(error, OperationalError | InterfaceError):
        # PostgreSQL: connection refused, terminated, shut down, or starting up
        return DATABASE_UNAVAILABLE
    if isinstance(error, PoolTimeout | DisconnectionError | PendingRollbackError):
        return DATABASE_UNAVAILABLE
    return None
