"""Verifications on SQL; the atomic check is one conditional UPDATE … RETURNING."""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import asdict, fields
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    and_,
    bindparam,
    case,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    text,
    true,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement

from otpgate.domain.verification import DeliveryStatus, Status, Verification
from otpgate.service.ports import (
    IdempotentAnswer,
    ListQuery,
    PendingVerification,
    QueuedMessage,
    Transaction,
    WriteConflict,
)
from otpgate.store.channels import NOTIFY_MESSAGE_QUEUED
from otpgate.store.database import Database
from otpgate.store.driver import DriverStatement
from otpgate.store.driver import is_unique_violation as driver_unique_violation
from otpgate.store.tables import (
    UtcDateTime,
    api_keys,
    idempotency_keys,
    messages,
    verification_aliases,
    verifications,
)
from otpgate.store.transaction import SqlTransaction, connection_of, is_unique_violation

v = verifications.c
# the one mapping between a Verification and its row: field name -> column name
_COLUMN_OF = {field.name: field.name for field in fields(Verification)} | {"to": "to_number"}
VERIFICATION_FIELDS = tuple(v[column] for column in _COLUMN_OF.values())


def verification_from_row(row: Sequence[Any]) -> Verification:
    """The verification in a row that starts with VERIFICATION_FIELDS (a Core row or the
    driver's tuple)."""
    values = dict(zip(_COLUMN_OF, row, strict=False))
    values["status"] = Status(values["status"])
    values["delivery_status"] = DeliveryStatus(values["delivery_status"])
    return Verification(**values)


def verification_row(verification: Verification) -> dict[str, Any]:
    """The columns of VERIFICATION_FIELDS for a verification: the mapping the other way."""
    return {column: getattr(verification, name) for name, column in _COLUMN_OF.items()}


def _execute_unique(connection: Connection, statement: Any, params: Any = None) -> None:
    """Run an INSERT that a concurrent transaction may beat to the same unique key."""
    try:
        connection.execute(statement, params)
    except IntegrityError as error:
        if is_unique_violation(error):
            raise WriteConflict(str(error.orig)) from error
        raise


def _message_row(message: QueuedMessage) -> dict[str, Any]:
    return {
        "id": message.id,
        "app_id": message.app_id,
        "verification_id": message.verification_id,
        "to_number": message.to,
        "sender": message.sender,
        "body_sealed": message.body_sealed,
        "status": DeliveryStatus.QUEUED.value,
        "attempts": 0,
        "encoding": None if message.encoding is None else message.encoding.value,
        "segments": message.segments,
        "next_attempt_at": message.created_at,
        "created_at": message.created_at,
        "updated_at": message.created_at,
    }


# The hot statements are built once: building a statement costs more than running it.
# A start's and a check's run on the driver (store/driver.py): through Core each cost more CPU
# than SQLite spends running it. The inserts take their columns from the rows they are given.
_INSERT_VERIFICATION = DriverStatement(insert(verifications))
_INSERT_MESSAGE = DriverStatement(insert(messages))
_GET = select(*VERIFICATION_FIELDS).where(v.id == bindparam("id"), v.app_id == bindparam("app_id"))
# FOR UPDATE (PostgreSQL; SQLite has one writer anyway): a concurrent re-send of the same
# verification waits, then reads the count and time of this one's send
_FIND_PENDING = DriverStatement(
    select(*VERIFICATION_FIELDS, v.code_sealed)
    .where(
        v.app_id == bindparam("app_id"),
        v.to_number == bindparam("to"),
        v.status == Status.PENDING.value,
    )
    .with_for_update()
)
_RECORD_RESEND = (
    update(verifications)
    .where(v.id == bindparam("verification_id"))
    .values(
        sends=v.sends + 1,
        last_sent_at=bindparam("now", type_=UtcDateTime()),
        delivery_status=bindparam("delivery_status"),
        last_message_id=bindparam("message_id"),
        updated_at=bindparam("now", type_=UtcDateTime()),
    )
    .returning(*VERIFICATION_FIELDS)
)


def lock_verifications_of(connection: Connection, message_ids: Sequence[str]) -> None:
    """Lock the verifications of these messages in id order, in one statement (PostgreSQL;
    SQLite has one writer). Every transaction that changes several verifications (a delivery
    batch's claim and results, a batch of receipts) takes their locks this way before it
    changes any of them: rows taken in one order by one statement cannot be waited for
    crosswise, as rows taken by several statements in the order each met them could."""
    if connection.dialect.name == "sqlite" or not message_ids:
        return
    owners = select(messages.c.verification_id).where(messages.c.id.in_(message_ids))
    connection.execute(select(v.id).where(v.id.in_(owners)).order_by(v.id).with_for_update())


def newest_message_in(message_ids: Sequence[str]) -> ColumnElement[bool]:
    """Verifications whose newest message is one of `message_ids`, for a set-based UPDATE
    after `lock_verifications_of` the same messages. The rows are found through the messages'
    own verification ids (primary keys, not a scan)."""
    owners = select(messages.c.verification_id).where(messages.c.id.in_(message_ids))
    return and_(v.id.in_(owners), v.last_message_id.in_(message_ids))


_LOCK_KEY = text("SELECT pg_advisory_xact_lock(hashtextextended(:name, 0))")


@functools.cache
def _check_statement(*, key_must_be_live: bool, hashes: int) -> DriverStatement:
    """The atomic check: one conditional UPDATE … RETURNING, the rule of
    `domain.verification.check_transition` in SQL (tests/store/test_check_transition.py).

    The row lock (or SQLite's write lock) makes two concurrent checks see each other's attempt,
    so no interleaving passes max_attempts or approves twice. Every SET expression reads the
    row as it was before this UPDATE. `key_must_be_live`: only while the API key `key_id` of
    the verification's app is not revoked, so the key's check and the code's are one statement.
    One statement per number of `hashes` (the live secret keys: one, two during a rotation).
    """
    now = bindparam("now", type_=UtcDateTime())
    expired = v.expires_at <= now
    # the submitted code hashed under each live secret key (a rotation keeps old codes)
    matches = v.code_hash.in_([bindparam(f"submitted_hash_{index}") for index in range(hashes)])
    last_try = v.attempts + 1 >= v.max_attempts
    new_status = case(
        (expired, Status.EXPIRED.value),
        (matches, Status.APPROVED.value),
        (last_try, Status.LOCKED.value),
        else_=Status.PENDING.value,
    )
    still_pending = and_(~expired, ~matches, ~last_try)
    live_key = exists().where(
        api_keys.c.key_id == bindparam("key_id"),
        api_keys.c.app_id == v.app_id,
        api_keys.c.revoked_at.is_(None),
    )
    return DriverStatement(
        update(verifications)
        .where(
            v.id == bindparam("verification_id"),
            v.app_id == bindparam("owner_id"),
            v.status == Status.PENDING.value,
            live_key if key_must_be_live else true(),
        )
        .values(
            status=new_status,
            attempts=case((expired, v.attempts), else_=v.attempts + 1),
            approved_at=case((and_(~expired, matches), now), else_=None),
            code_sealed=case((still_pending, v.code_sealed), else_=None),
            updated_at=now,
        )
        .returning(*VERIFICATION_FIELDS)
    )


def _answer_to_text(answer: IdempotentAnswer) -> str:
    fields = asdict(answer.verification)
    return json.dumps(
        {k: val.isoformat() if isinstance(val, datetime) else val for k, val in fields.items()}
    )


def _answer_from_text(text: str) -> Verification:
    fields = json.loads(text)
    for name in ("created_at", "expires_at", "approved_at", "last_sent_at"):
        if fields[name] is not None:
            fields[name] = datetime.fromisoformat(fields[name])
    fields["status"] = Status(fields["status"])
    fields["delivery_status"] = DeliveryStatus(fields["delivery_status"])
    return Verification(**fields)


class SqlVerificationStore:
    def __init__(self, database: Database) -> None:
        self._database = database

    def transaction(self) -> AbstractContextManager[SqlTransaction]:
        return self._database.transaction()

    def find_idempotent(
        self, tx: Transaction, app_id: str, key: str, since: datetime
    ) -> IdempotentAnswer | None:
        connection = connection_of(tx)
        k = idempotency_keys.c
        if not self._database.is_sqlite:
            # requests with one key run one after the other (SQLite has one writer anyway):
            # the later one finds the earlier one's answer instead of racing it to a refusal
            connection.execute(_LOCK_KEY, {"name": f"idempotency:{app_id}:{key}"})
        row = connection.execute(
            select(k.fingerprint, k.created, k.answer, k.created_at).where(
                k.app_id == app_id, k.key == key
            )
        ).first()
        if row is None:
            return None
        if row.created_at < since:
            connection.execute(delete(idempotency_keys).where(k.app_id == app_id, k.key == key))
            return None
        return IdempotentAnswer(row.fingerprint, row.created, _answer_from_text(row.answer))

    def remember_idempotent(
        self, tx: Transaction, app_id: str, key: str, answer: IdempotentAnswer, now: datetime
    ) -> None:
        _execute_unique(
            connection_of(tx),
            insert(idempotency_keys).values(
                app_id=app_id,
                key=key,
                fingerprint=answer.fingerprint,
                created=answer.created,
                answer=_answer_to_text(answer),
                created_at=now,
            ),
        )

    def find_pending(self, tx: Transaction, app_id: str, to: str) -> PendingVerification | None:
        rows = _FIND_PENDING.execute(connection_of(tx), {"app_id": app_id, "to": to})
        if not rows:
            return None
        return PendingVerification(verification_from_row(rows[0]), rows[0][-1])

    def expire(self, tx: Transaction, verification_id: str, now: datetime) -> None:
        connection_of(tx).execute(
            update(verifications)
            .where(v.id == verification_id, v.status == Status.PENDING)
            .values(status=Status.EXPIRED, code_sealed=None, updated_at=now)
        )

    def insert(
        self,
        tx: Transaction,
        verification: Verification,
        code_hash: str,
        code_sealed: bytes,
        message: QueuedMessage | None,
    ) -> None:
        row = verification_row(verification)
        row["status"], row["delivery_status"] = (
            verification.status.value,
            verification.delivery_status.value,
        )
        row["code_hash"] = code_hash
        row["code_sealed"] = code_sealed
        row["last_message_id"] = None if message is None else message.id
        row["updated_at"] = verification.created_at
        connection = connection_of(tx)
        try:
            _INSERT_VERIFICATION.execute(connection, row)
        except connection.dialect.loaded_dbapi.IntegrityError as error:
            # a concurrent start committed a pending verification for this number first
            if driver_unique_violation(error):
                raise WriteConflict(str(error)) from error
            raise
        if message is not None:
            self._queue(tx, message)

    def _queue(self, tx: Transaction, message: QueuedMessage) -> None:
        _INSERT_MESSAGE.execute(connection_of(tx), _message_row(message))
        assert isinstance(tx, SqlTransaction)
        # the delivery workers LISTENing on every node wake at this commit
        tx.notify(NOTIFY_MESSAGE_QUEUED)

    def record_resend(
        self, tx: Transaction, verification_id: str, message: QueuedMessage | None, now: datetime
    ) -> Verification:
        if message is not None:
            self._queue(tx, message)
        row = (
            connection_of(tx)
            .execute(
                _RECORD_RESEND,
                {
                    "verification_id": verification_id,
                    "now": now,
                    "message_id": None if message is None else message.id,
                    # a test number gets no message; its code counts as delivered
                    "delivery_status": (
                        DeliveryStatus.DELIVERED if message is None else DeliveryStatus.QUEUED
                    ).value,
                },
            )
            .one()
        )
        return verification_from_row(row)

    def add_alias(
        self, tx: Transaction, app_id: str, alias_hash: str, verification_id: str, now: datetime
    ) -> None:
        _execute_unique(
            connection_of(tx),
            insert(verification_aliases).values(
                alias_hash=alias_hash,
                app_id=app_id,
                verification_id=verification_id,
                created_at=now,
            ),
        )

    def get(
        self, app_id: str, verification_id: str, tx: Transaction | None = None
    ) -> Verification | None:
        with self._database.reading(tx) as connection:
            row = connection.execute(_GET, {"id": verification_id, "app_id": app_id}).first()
        return None if row is None else verification_from_row(row)

    def list(self, app_id: str, query: ListQuery, now: datetime) -> list[Verification]:
        statement = select(*VERIFICATION_FIELDS).where(v.app_id == app_id)
        if query.to is not None:
            statement = statement.where(v.to_number == query.to)
        if query.before_id is not None:
            statement = statement.where(v.id < query.before_id)
        if query.status == Status.PENDING:
            statement = statement.where(v.status == Status.PENDING, v.expires_at > now)
        elif query.status == Status.EXPIRED:
            statement = statement.where(
                or_(
                    v.status == Status.EXPIRED,
                    and_(v.status == Status.PENDING, v.expires_at <= now),
                )
            )
        elif query.status is not None:
            statement = statement.where(v.status == query.status)
        statement = statement.order_by(v.id.desc()).limit(query.limit)
        with self._database.read() as connection:
            return [verification_from_row(row) for row in connection.execute(statement)]

    def pending_id_for(self, app_id: str, to: str) -> str | None:
        with self._database.read() as connection:
            return connection.execute(
                select(v.id).where(
                    v.app_id == app_id, v.to_number == to, v.status == Status.PENDING
                )
            ).scalar()

    def check(
        self,
        tx: Transaction,
        app_id: str,
        verification_id: str,
        code_hashes: Sequence[str],
        now: datetime,
        *,
        key_id: str | None = None,
    ) -> Verification | None:
        params = {
            "verification_id": verification_id,
            "owner_id": app_id,
            "now": now,
            **{f"submitted_hash_{index}": code_hash for index, code_hash in enumerate(code_hashes)},
        }
        if key_id is not None:
            params["key_id"] = key_id
        statement = _check_statement(key_must_be_live=key_id is not None, hashes=len(code_hashes))
        rows = statement.execute(connection_of(tx), params)
        return verification_from_row(rows[0]) if rows else None

    def cancel(
        self, tx: Transaction, app_id: str, verification_id: str, now: datetime
    ) -> Verification | None:
        statement = (
            update(verifications)
            .where(
                v.id == verification_id,
                v.app_id == app_id,
                v.status == Status.PENDING,
                v.expires_at > now,
            )
            .values(status=Status.CANCELED, code_sealed=None, updated_at=now)
            .returning(*VERIFICATION_FIELDS)
        )
        row = connection_of(tx).execute(statement).first()
        return None if row is None else verification_from_row(row)

    def lock(
        self, tx: Transaction, app_id: str, verification_id: str, now: datetime
    ) -> Verification | None:
        statement = (
            update(verifications)
            .where(
                v.id == verification_id,
                v.app_id == app_id,
                v.status == Status.PENDING,
            )
            .values(status=Status.LOCKED, code_sealed=None, updated_at=now)
            .returning(*VERIFICATION_FIELDS)
        )
        row = connection_of(tx).execute(statement).first()
        return None if row is None else verification_from_row(row)

    def conversion(self, app_id: str, prefix: str, since: datetime) -> tuple[int, int]:
        # a range on the (app_id, to_number, id) index: every number that starts with prefix
        statement = select(func.count(), func.count(v.approved_at)).where(
            v.app_id == app_id,
            v.to_number >= prefix,
            v.to_number < prefix + "~",
            v.created_at >= since,
        )
        with self._database.read() as connection:
            started, approved = connection.execute(statement).one()
        return int(started), int(approved)

    def find_alias(self, alias_hash: str) -> tuple[str, str] | None:
        a = verification_aliases.c
        with self._database.read() as connection:
            row = connection.execute(
                select(a.app_id, a.verification_id).where(a.alias_hash == alias_hash)
            ).first()
        return None if row is None else (row.app_id, row.verification_id)
