"""The unit of work: one transaction on one connection, handed to every store that joins it.

A service opens it (`with database.transaction() as tx:`) and passes `tx` to each store call
that is part of the same use case; a store method that writes takes the transaction it is
given and never finds one on its own. What must happen only once the work is durable (wake
the delivery worker, the webhook dispatcher) is registered on it with `after_commit`.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, TextClause
from sqlalchemy.exc import IntegrityError

from otpgate.service.ports import Transaction


class SqlTransaction:
    """An open transaction: its connection, and what runs once it commits."""

    def __init__(self, connection: Connection, *, is_sqlite: bool) -> None:
        self.connection = connection
        self.is_sqlite = is_sqlite
        self.callbacks: list[Callable[[], None]] = []
        self._notifications: list[TextClause] = []

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Call back once this transaction is durable; never if it rolls back."""
        self.callbacks.append(callback)

    def notify(self, statement: TextClause) -> None:
        """A PostgreSQL NOTIFY sent with this transaction (delivered at its commit), once."""
        if not self.is_sqlite and statement not in self._notifications:
            self._notifications.append(statement)
            self.connection.execute(statement)


def connection_of(tx: Transaction) -> Connection:
    """The connection of a transaction a service handed to a store."""
    assert isinstance(tx, SqlTransaction), "a store joins only its own database's transactions"
    return tx.connection


def is_unique_violation(error: IntegrityError) -> bool:
    """A concurrent transaction committed the same key first (not a bug in the statement)."""
    original = error.orig
    if getattr(original, "sqlstate", None) == "23505":  # PostgreSQL unique_violation
        return True
    return str(original).startswith("UNIQUE constraint failed")  # SQLite
