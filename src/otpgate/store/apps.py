"""Apps and API keys on SQL."""

from __future__ import annotations

import json
from contextlib import AbstractContextManager
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError

from otpgate.domain.errors import Conflict
from otpgate.domain.policy import AppSettings, apply_settings
from otpgate.service.ports import ApiKeyInfo, ApiKeyRecord, App, Transaction
from otpgate.store.database import Database
from otpgate.store.tables import api_keys, apps
from otpgate.store.transaction import SqlTransaction, connection_of, is_unique_violation

a = apps.c
k = api_keys.c
_APP_FIELDS = (a.id, a.name, a.settings, a.webhook_secret, a.created_at)
# every authenticated request runs this: built once
_FIND_KEY = (
    select(k.secret_hash, *_APP_FIELDS)
    .join(apps, a.id == k.app_id)
    .where(k.key_id == bindparam("key_id"), k.revoked_at.is_(None))
)


@lru_cache(maxsize=1024)
def _settings(text: str) -> AppSettings:
    # re-applying stored settings fills in settings added by later versions with defaults;
    # cached because every authenticated request reads its app's settings
    return apply_settings(AppSettings(), json.loads(text))


def _app(row: Row[Any, *tuple[Any, ...]]) -> App:
    return App(
        id=row.id,
        name=row.name,
        settings=_settings(row.settings),
        webhook_secret=row.webhook_secret,
        created_at=row.created_at,
    )


class SqlAppStore:
    def __init__(self, database: Database) -> None:
        self._database = database

    def transaction(self) -> AbstractContextManager[SqlTransaction]:
        return self._database.transaction()

    def insert_app(self, tx: Transaction, app: App) -> None:
        try:
            connection_of(tx).execute(
                insert(apps).values(
                    id=app.id,
                    name=app.name,
                    settings=json.dumps(app.settings.to_mapping()),
                    webhook_secret=app.webhook_secret,
                    created_at=app.created_at,
                    updated_at=app.created_at,
                )
            )
        except IntegrityError as error:
            # another request (or node) took the name between the service's look and now
            if is_unique_violation(error):
                raise Conflict(f"an app named {app.name!r} exists", field="name") from error
            raise

    def get_app(self, app_id: str, tx: Transaction | None = None) -> App | None:
        return self._one(select(*_APP_FIELDS).where(a.id == app_id), tx)

    def get_app_by_name(self, name: str) -> App | None:
        return self._one(select(*_APP_FIELDS).where(a.name == name))

    def list_apps(self) -> list[App]:
        with self._database.read() as connection:
            return [
                _app(row) for row in connection.execute(select(*_APP_FIELDS).order_by(a.created_at))
            ]

    def update_settings(
        self, tx: Transaction, app_id: str, settings: AppSettings, now: datetime
    ) -> None:
        connection_of(tx).execute(
            update(apps)
            .where(a.id == app_id)
            .values(settings=json.dumps(settings.to_mapping()), updated_at=now)
        )

    def insert_key(self, tx: Transaction, key: ApiKeyRecord) -> None:
        connection_of(tx).execute(
            insert(api_keys).values(
                key_id=key.key_id,
                app_id=key.app_id,
                secret_hash=key.secret_hash,
                created_at=key.created_at,
            )
        )

    def revoke_key(self, tx: Transaction, app_id: str | None, key_id: str, now: datetime) -> bool:
        statement = update(api_keys).where(k.key_id == key_id, k.revoked_at.is_(None))
        if app_id is not None:
            statement = statement.where(k.app_id == app_id)
        result = connection_of(tx).execute(statement.values(revoked_at=now))
        return bool(result.rowcount)

    def list_keys(self, app_id: str) -> list[ApiKeyInfo]:
        statement = (
            select(k.key_id, k.created_at, k.revoked_at)
            .where(k.app_id == app_id)
            .order_by(k.created_at.desc(), k.key_id.desc())
        )
        with self._database.read() as connection:
            return [
                ApiKeyInfo(row.key_id, row.created_at, row.revoked_at)
                for row in connection.execute(statement)
            ]

    def find_key(self, key_id: str) -> tuple[str, App] | None:
        with self._database.read() as connection:
            row = connection.execute(_FIND_KEY, {"key_id": key_id}).first()
        return None if row is None else (row.secret_hash, _app(row))

    def _one(self, statement: Any, tx: Transaction | None = None) -> App | None:
        with self._database.reading(tx) as connection:
            row = connection.execute(statement).first()
        return None if row is None else _app(row)
