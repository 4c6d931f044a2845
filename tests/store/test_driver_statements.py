"""A statement run on the driver (store/driver.py) writes each value as the column's own type
writes it through Core, so a row it inserted compares equal to the same value asked through
Core: a time on a whole second included (SQLite stores times as text)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, insert, select

from otpgate.runtime import Runtime
from otpgate.store.driver import DriverStatement
from otpgate.store.tables import apps

WHOLE_SECOND = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
WITH_MICROSECONDS = datetime(2026, 1, 1, 12, 0, 0, 250_000, tzinfo=UTC)

_INSERT_APP = DriverStatement(
    insert(apps), ["id", "name", "settings", "webhook_secret", "created_at", "updated_at"]
)


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
