"""The steps of workflows on SQL: claimed with FOR UPDATE SKIP LOCKED in the transaction that
sends them, and moved forward by the delivery results and receipts of their messages."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, select, update
from sqlalchemy.engine import Row

from otpgate.domain.channels import Channel, Step, StepState, StepStatus, step_status
from otpgate.domain.verification import DeliveryStatus, Status, Verification
from otpgate.service.ports import DueStep, Transaction
from otpgate.store.database import Database
from otpgate.store.tables import messages, verifications, workflow_steps
from otpgate.store.transaction import connection_of
from otpgate.store.verifications import VERIFICATION_FIELDS, verification_from_row

w = workflow_steps.c
v = verifications.c
m = messages.c

# the step's own columns labelled apart from the verification's (both have a channel)
_DUE_FIELDS = (
    *VERIFICATION_FIELDS,
    v.code_sealed,
    w.position.label("step_position"),
    w.channel.label("step_channel"),
    w.timeout_seconds.label("step_timeout_seconds"),
)


class SqlWorkflowStore:
    def __init__(self, database: Database) -> None:
        self._database = database

    def insert_steps(
        self,
        tx: Transaction,
        verification_id: str,
        steps: Sequence[Step],
        first_message_id: str,
        now: datetime,
    ) -> None:
        rows = [
            {
                "verification_id": verification_id,
                "position": position,
                "channel": step.channel.value,
                "timeout_seconds": step.timeout_seconds,
                "status": StepStatus.SENT if position == 0 else StepStatus.WAITING,
                "message_id": first_message_id if position == 0 else None,
                "sent_at": now if position == 0 else None,
                "due_at": now + timedelta(seconds=steps[0].timeout_seconds)
                if position == 1
                else None,
            }
            for position, step in enumerate(steps)
        ]
        connection_of(tx).execute(workflow_steps.insert(), rows)

    def claim_due(self, tx: Transaction, now: datetime, limit: int) -> list[DueStep]:
        # SKIP LOCKED: another node's worker is sending those; its commit or its death (the
        # rollback frees the row, the step still waiting) decides them, not this one
        statement = (
            select(*_DUE_FIELDS)
            .join(verifications, v.id == w.verification_id)
            .where(w.status == StepStatus.WAITING, w.due_at <= now)
            .order_by(w.due_at)
            .limit(limit)
            .with_for_update(skip_locked=True, of=workflow_steps)
        )
        return [_due(row) for row in connection_of(tx).execute(statement)]

    def next_waiting(
        self, tx: Transaction, app_id: str, verification_id: str
    ) -> tuple[Verification, DueStep | None] | None:
        connection = connection_of(tx)
        # the verification's row first, locked: /next and the worker take it in the same order
        found = connection.execute(
            select(*VERIFICATION_FIELDS, v.code_sealed)
            .where(v.id == verification_id, v.app_id == app_id)
            .with_for_update()
        ).first()
        if found is None:
            return None
        row = connection.execute(
            select(*_DUE_FIELDS)
            .join(verifications, v.id == w.verification_id)
            .where(w.verification_id == verification_id, w.status == StepStatus.WAITING)
            .order_by(w.position)
            .limit(1)
            .with_for_update(of=workflow_steps)
        ).first()
        return verification_from_row(found), None if row is None else _due(row)

    def mark_sent(self, tx: Transaction, step: DueStep, message_id: str, now: datetime) -> None:
        connection = connection_of(tx)
        connection.execute(
            update(workflow_steps)
            .where(_step_is(step.verification.id, step.position))
            .values(status=StepStatus.SENT, message_id=message_id, sent_at=now, due_at=None)
        )
        _make_due(
            connection, step.verification.id, step.position + 1,
            now + timedelta(seconds=step.timeout_seconds),
        )  # fmt: skip

    def skip(self, tx: Transaction, step: DueStep, now: datetime) -> None:
        connection = connection_of(tx)
        connection.execute(
            update(workflow_steps)
            .where(_step_is(step.verification.id, step.position))
            .values(status=StepStatus.SKIPPED, due_at=None)
        )
        _make_due(connection, step.verification.id, step.position + 1, now)

    def skip_waiting(self, tx: Transaction, verification_id: str) -> None:
        connection_of(tx).execute(
            update(workflow_steps)
            .where(w.verification_id == verification_id, w.status == StepStatus.WAITING)
            .values(status=StepStatus.SKIPPED, due_at=None)
        )

    def states_of(self, verification_ids: Sequence[str]) -> dict[str, tuple[StepState, ...]]:
        if not verification_ids:
            return {}
        statement = (
            select(w.verification_id, w.channel, w.status, w.sent_at, m.status.label("sent"))
            .outerjoin(messages, m.id == w.message_id)
            .where(w.verification_id.in_(verification_ids))
            .order_by(w.verification_id, w.position)
        )
        states: defaultdict[str, list[StepState]] = defaultdict(list)
        with self._database.read() as connection:
            for row in connection.execute(statement):
                message_status = None if row.sent is None else DeliveryStatus(row.sent)
                states[row.verification_id].append(
                    StepState(
                        Channel(row.channel),
                        step_status(StepStatus(row.status), message_status),
                        row.sent_at,
                    )
                )
        return {verification_id: tuple(steps) for verification_id, steps in states.items()}


def hasten_next_steps(
    connection: Connection, message_ids: Iterable[str], now: datetime
) -> set[str]:
    """The messages of these ids ended undelivered or failed: the step after each one's step
    is due now. Returns the ids whose step had one waiting (their verification goes on)."""
    ids = list(message_ids)
    if not ids:
        return set()
    sent = workflow_steps.alias("sent")
    rows = connection.execute(
        select(sent.c.message_id, sent.c.verification_id, sent.c.position)
        .join(verifications, verifications.c.id == sent.c.verification_id)
        .where(sent.c.message_id.in_(ids), v.status == Status.PENDING)
    ).all()
    hastened: set[str] = set()
    for row in rows:
        moved = connection.execute(
            update(workflow_steps)
            .where(_step_is(row.verification_id, row.position + 1), w.status == StepStatus.WAITING)
            .values(due_at=now)
            .returning(w.position)
        ).first()
        if moved is not None:
            hastened.add(row.message_id)
    return hastened


def _make_due(connection: Connection, verification_id: str, position: int, due: datetime) -> None:
    connection.execute(
        update(workflow_steps)
        .where(_step_is(verification_id, position), w.status == StepStatus.WAITING)
        .values(due_at=due)
    )


def _step_is(verification_id: str, position: int) -> Any:
    return and_(w.verification_id == verification_id, w.position == position)


def _due(row: Row[Any]) -> DueStep:
    return DueStep(
        verification=verification_from_row(row),
        code_sealed=row.code_sealed,
        position=row.step_position,
        channel=Channel(row.step_channel),
        timeout_seconds=row.step_timeout_seconds,
    )
