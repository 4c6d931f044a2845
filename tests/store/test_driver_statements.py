"""A statement run on the driver (store/driver.py) writes each value as the column's own type
writes it through Core, so a row it inserted compares equal to the same value asked through
Core: a time on a whole second included (SQLite stores times as text)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import bindparam, func, insert, select

from otpgate.runtime import Runtime
from otpgate.store.driver import DriverStatement
from otpgate.store.tables import apps

WHOLE_SECOND = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
WITH_MICROSECONDS = datetime(2026, 1, 1, 12, 0, 0, 250_000, tzinfo=UTC)

_INSERT_APP = DriverStatement(insert(apps))


def test_a_time_the_driver_wrote_is_the_time_core_asks_for(runtime: Runtime) -> None:
    with runtime.database.transaction() as tx:
        for index, moment in enumerate((WHOLE_SECOND, WITH_MICROSECONDS)):
            _INSERT_APP.execute(
                tx.connection,
                {
                    "id": f"app_driver_{index}",
                    "name": f"driver-{index}",
                    "settings": "{}",
                    "webhook_secret": "s",
                    "created_at": moment,
                    "updated_at": moment,
                },
            )

    with runtime.database.read() as connection:
        for moment in (WHOLE_SECOND, WITH_MICROSECONDS):
            found = connection.execute(
                select(func.count()).select_from(apps).where(apps.c.created_at == moment)
            ).scalar_one()
            assert found == 1, moment
            later = connection.execute(
                select(func.count()).select_from(apps).where(apps.c.created_at > moment)
            ).scalar_one()
            assert later == (1 if moment == WHOLE_SECOND else 0)


def test_a_parameter_the_statement_does_not_take_or_one_left_out_is_refused(
    runtime: Runtime,
) -> None:
    row = {
        "id": "app_driver_strict",
        "name": "driver-strict",
        "settings": "{}",
        "webhook_secret": "s",
        "created_at": WHOLE_SECOND,
        "updated_at": WHOLE_SECOND,
    }
    statement = DriverStatement(insert(apps))
    with runtime.database.transaction() as tx:
        statement.execute(tx.connection, row)
        with pytest.raises(ValueError, match=r"missing: \['updated_at'\].*\['updatd_at'\]"):
            statement.execute(
                tx.connection,
                {**{k: v for k, v in row.items() if k != "updated_at"}, "updatd_at": WHOLE_SECOND},
            )
        by_name = DriverStatement(select(apps.c.id).where(apps.c.name == bindparam("name")))
        with pytest.raises(ValueError, match=r"not the statement's: \['app_id'\]"):
            by_name.execute(tx.connection, {"name": "driver-strict", "app_id": "x"})


def test_returned_values_are_what_core_returns(runtime: Runtime) -> None:
    columns = (apps.c.id, apps.c.settings, apps.c.created_at)
    with runtime.database.transaction() as tx:
        _INSERT_APP.execute(
            tx.connection,
            {
                "id": "app_driver_read",
                "name": "driver-read",
                "settings": "{}",
                "webhook_secret": "s",
                "created_at": WITH_MICROSECONDS,
                "updated_at": WITH_MICROSECONDS,
            },
        )
        by_id = select(*columns).where(apps.c.id == bindparam("id"))
        [on_driver] = DriverStatement(by_id).execute(tx.connection, {"id": "app_driver_read"})
        through_core = tx.connection.execute(by_id, {"id": "app_driver_read"}).one()
    assert on_driver == tuple(through_core)
    assert on_driver[2] == WITH_MICROSECONDS and on_driver[2].tzinfo is UTC
