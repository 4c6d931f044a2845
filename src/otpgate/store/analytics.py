"""Analytics on SQL: counts of verifications and their messages over a time range.

Identifiers sort by creation time (service/ids.py), so a time range is a range of ids: with an
app, the scan walks `ix_verifications_app_id_id` from the first id of `start` to the first id
of `end`; across every app it walks `ix_verifications_created_at`; messages are found from
their verification by `ix_messages_verification_id`, and the provider figures walk the
messages' primary key by id. None of them reads a row outside the range asked, so the cost
follows the rows in the range, not the rows stored (bench/analytics.py measures it).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, case, distinct, func, literal, select

from otpgate.domain.verification import DeliveryStatus, Status
from otpgate.service.analytics import DeliveryTiming, SummaryQuery, SummaryRow
from otpgate.service.ids import first_id_at
from otpgate.store.database import Database
from otpgate.store.tables import messages, verifications

v = verifications.c
m = messages.c

# the longest calling code is 3 digits: "+" and 3 digits and the prefix's own digits hold the
# prefix of any number; the service cuts each to its real prefix
PREFIX_CALLING_CODE_ROOM = 4

_UNDELIVERED = (DeliveryStatus.UNDELIVERED, DeliveryStatus.FAILED)
# the spelling of the partial index ix_messages_due, so the count walks only that index
_WAITING = (DeliveryStatus.QUEUED, DeliveryStatus.SENDING)


class SqlAnalytics:
    def __init__(self, database: Database) -> None:
        self._database = database

    def summary(self, query: SummaryQuery) -> tuple[SummaryRow, list[SummaryRow]]:
        """The totals of the range, and (with `query.group_by`) one row per group."""
        key = self._group_key(query)
        with self._database.read() as connection:
            total = connection.execute(_counts(query, literal(""))).one()
            groups = (
                [] if key is None else connection.execute(_counts(query, key).group_by(key)).all()
            )
        return _row(total), [_row(group) for group in groups]

    def delivery_timings(self, start: datetime, end: datetime) -> list[DeliveryTiming]:
        """Every message queued in [start, end): its provider, channel, status and times."""
        statement = (
            # the message's own channel: a workflow's messages go by several
            select(
                m.channel,
                m.provider,
                m.status,
                m.created_at,
                m.sent_at,
                m.updated_at,
                m.delivered_at,
            )
            .select_from(messages.join(verifications, v.id == m.verification_id))
            .where(
                m.id >= first_id_at("msg", start),
                m.id < first_id_at("msg", end),
                m.created_at >= start,
                m.created_at < end,
            )
        )
        with self._database.read() as connection:
            return [
                DeliveryTiming(
                    provider=row.provider,
                    channel=row.channel,
                    status=DeliveryStatus(row.status),
                    queued_at=row.created_at,
                    sent_at=row.sent_at,
                    # a message delivered before delivered_at was kept: its last change
                    delivered_at=(
                        (row.delivered_at or row.updated_at)
                        if row.status == DeliveryStatus.DELIVERED
                        else None
                    ),
                )
                for row in connection.execute(statement)
            ]

    def backlog(self, since: datetime) -> tuple[int, int]:
        """Messages waiting to go out now, and those that failed or went undelivered since."""
        waiting = select(func.count()).where(m.status.in_(_WAITING))
        failed = select(func.count()).where(
            m.id >= first_id_at("msg", since), m.created_at >= since, m.status.in_(_UNDELIVERED)
        )
        with self._database.read() as connection:
            return int(connection.execute(waiting).scalar_one()), int(
                connection.execute(failed).scalar_one()
            )

    def _group_key(self, query: SummaryQuery) -> ColumnElement[Any] | None:
        if query.group_by is None:
            return None
        if query.group_by == "day":
            if self._database.is_sqlite:
                return func.strftime("%Y-%m-%d", v.created_at)
            return func.to_char(v.created_at, "YYYY-MM-DD")
        if query.group_by == "country":
            return func.coalesce(v.country, "")
        if query.group_by == "channel":
            return v.channel
        if query.group_by == "provider":
            return func.coalesce(m.provider, "")
        assert query.group_by == "prefix"
        return func.substr(v.to_number, 1, PREFIX_CALLING_CODE_ROOM + query.prefix_digits)


def _counts(query: SummaryQuery, key: ColumnElement[Any]) -> Any:
    delivered = case((m.status == DeliveryStatus.DELIVERED, 1), else_=0)
    undelivered = case((m.status.in_(_UNDELIVERED), 1), else_=0)
    approved = case((v.status == Status.APPROVED, v.id), else_=None)
    statement = (
        select(
            key.label("key"),
            func.count(distinct(v.id)).label("verifications"),
            func.count(distinct(approved)).label("approved"),
            func.count(m.id).label("messages"),
            func.coalesce(func.sum(delivered), 0).label("delivered"),
            func.coalesce(func.sum(undelivered), 0).label("undelivered"),
        )
        .select_from(verifications.outerjoin(messages, m.verification_id == v.id))
        .where(*_range(query))
    )
    if query.country is not None:
        statement = statement.where(v.country == query.country)
    if query.channel is not None:
        statement = statement.where(v.channel == query.channel)
    return statement


def _range(query: SummaryQuery) -> Sequence[ColumnElement[bool]]:
    bounds = [v.created_at >= query.start, v.created_at < query.end]
    if query.app_id is None:
        return bounds
    # the (app_id, id) index bounds the scan: ids begin with their creation time
    return [
        v.app_id == query.app_id,
        v.id >= first_id_at("ver", query.start),
        v.id < first_id_at("ver", query.end),
        *bounds,
    ]


def _row(row: Any) -> SummaryRow:
    return SummaryRow(
        key=str(row.key),
        verifications=int(row.verifications),
        approved=int(row.approved),
        messages=int(row.messages),
        delivered=int(row.delivered),
        undelivered=int(row.undelivered),
    )
