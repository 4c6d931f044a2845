"""Seed verifications straight into the database, as a benchmark's starting state.

Rows are written with the store's own tables and code hasher, so the server checks them like
any other; only the HTTP round trips of creating them are skipped.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert

from otpgate.domain.codes import CodeHasher
from otpgate.runtime import SystemRandom
from otpgate.service.ids import new_id
from otpgate.service.sealing import Sealer, derive_key
from otpgate.store.database import Database
from otpgate.store.tables import messages, verifications

BATCH = 20_000


def seed_verifications(
    database: Database,
    app_id: str,
    secret_key: str,
    count: int,
    *,
    code: str | None,
    pending: bool,
    max_attempts: int = 5,
    number_offset: int = 0,
    with_messages: bool = False,
) -> list[str]:
    """Insert `count` verifications; with `code`, their hashes match it. `with_messages`: each
    with the message the developer outbox kept of it, as a start and its delivery leave it.
    Returns the ids."""
    hasher = CodeHasher(derive_key(secret_key, "code-hash"))
    sealer = Sealer(derive_key(secret_key, "sealing"))
    now = datetime.now(UTC)
    random = SystemRandom()
    ids = []
    rows = []
    message_rows = []
    for index in range(count):
        verification_id = new_id("ver", now, random)
        ids.append(verification_id)
        number = f"+4477{number_offset + index:08d}"
        message_id = new_id("msg", now, random) if with_messages else None
        if message_id is not None:
            message_rows.append(
                {
                    "id": message_id,
                    "app_id": app_id,
                    "verification_id": verification_id,
                    "to_number": number,
                    "sender": None,
                    "body_sealed": sealer.seal(f"Your verification code is {code}", message_id),
                    "status": "sent",
                    "provider": "outbox",
                    "provider_message_id": message_id,
                    "attempts": 1,
                    "last_error": None,
                    "next_attempt_at": now,
                    "lease_until": None,
                    "created_at": now,
                    "sent_at": now,
                    "updated_at": now,
                }
            )
        code_hash = (
            hasher.hash(verification_id, code) if code is not None else secrets.token_hex(32)
        )
        rows.append(
            {
                "id": verification_id,
                "app_id": app_id,
                "to_number": number,
                "channel": "sms",
                "status": "pending" if pending else "approved",
                "country": "GB",
                "line_type": "mobile",
                "attempts": 0 if pending else 1,
                "max_attempts": max_attempts,
                "sends": 1,
                "delivery_status": "delivered",
                "external_id": None,
                "reference": None,
                "code_hash": code_hash,
                "code_sealed": None,
                "last_message_id": message_id,
                "created_at": now,
                "expires_at": now + timedelta(hours=23),
                "approved_at": None if pending else now,
                "last_sent_at": now,
                "updated_at": now,
            }
        )
        if len(rows) == BATCH:
            _write(database, rows, message_rows)
            rows, message_rows = [], []
    if rows:
        _write(database, rows, message_rows)
    return ids


def _write(database: Database, rows: list[dict], message_rows: list[dict]) -> None:
    with database.transaction() as tx:
        tx.connection.execute(insert(verifications), rows)
        if message_rows:
            tx.connection.execute(insert(messages), message_rows)
