"""Operator console sessions on SQL: one row per signed-in browser, found by its token's hash."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, insert, select, update

from otpgate.service.console_sessions import ConsoleSession
from otpgate.service.ports import Transaction
from otpgate.store.database import Database
from otpgate.store.tables import console_sessions
from otpgate.store.transaction import connection_of

s = console_sessions.c


class SqlConsoleSessions:
    def __init__(self, database: Database) -> None:
        self._database = database

    def insert(self, tx: Transaction, session: ConsoleSession, token_hash: str) -> None:
        connection = connection_of(tx)
        connection.execute(
            insert(console_sessions).values(
                token_hash=token_hash,
                csrf_token=session.csrf_token,
                created_at=session.created_at,
                expires_at=session.expires_at,
            )
        )
        # sessions nobody ended: gone once idle, so the table holds only live ones
        connection.execute(delete(console_sessions).where(s.expires_at <= session.created_at))

    def find(self, token_hash: str, now: datetime) -> ConsoleSession | None:
        with self._database.read() as connection:
            row = connection.execute(
                select(s.csrf_token, s.created_at, s.expires_at).where(
                    s.token_hash == token_hash, s.expires_at > now
                )
            ).first()
        return (
            None if row is None else ConsoleSession(row.csrf_token, row.created_at, row.expires_at)
        )

    def extend(self, tx: Transaction, token_hash: str, expires_at: datetime) -> None:
        connection_of(tx).execute(
            update(console_sessions).where(s.token_hash == token_hash).values(expires_at=expires_at)
        )

    def delete(self, tx: Transaction, token_hash: str) -> None:
        connection_of(tx).execute(delete(console_sessions).where(s.token_hash == token_hash))
