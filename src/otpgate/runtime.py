"""Composition root: settings in; database, stores, services, senders and worker out."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.exc import SQLAlchemyError

from otpgate.config import ConfigError, Settings
from otpgate.datadir import Secrets, load_or_create_secrets
from otpgate.delivery.protocol import SmsSender
from otpgate.delivery.senders.outbox import OutboxSender
from otpgate.delivery.worker import DeliveryWorker
from otpgate.domain.codes import CodeHasher
from otpgate.domain.templates import validate_sender
from otpgate.metrics import Metrics
from otpgate.service.apps import AppService, NewApiKey
from otpgate.service.opt_ins import OptInService
from otpgate.service.outbox import DevOutboxReader
from otpgate.service.ports import App, Clock, RandomSource
from otpgate.service.sealing import Sealer, derive_key
from otpgate.service.verifications import VerificationService
from otpgate.store.apps import SqlAppStore
from otpgate.store.engine import Database, open_database
from otpgate.store.messages import SqlDevOutbox, SqlMessageQueue
from otpgate.store.migrate import upgrade
from otpgate.store.opt_ins import SqlOptInStore
from otpgate.store.verifications import SqlVerificationStore

DEFAULT_APP_NAME = "default"


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class SystemRandom:
    def choice(self, symbols: str) -> str:
        return secrets.choice(symbols)

    def token_bytes(self, count: int) -> bytes:
        return secrets.token_bytes(count)


@dataclass
class Runtime:
    settings: Settings
    secrets: Secrets
    database: Database
    clock: Clock
    metrics: Metrics
    apps: AppService
    verifications: VerificationService
    opt_ins: OptInService
    outbox: DevOutboxReader | None  # None unless the provider is the developer outbox
    worker: DeliveryWorker

    def database_ready(self) -> bool:
        try:
            with self.database.read() as connection:
                connection.exec_driver_sql("SELECT 1")
        except SQLAlchemyError:
            return False
        return True

    def close(self) -> None:
        self.database.dispose()


def build_runtime(
    settings: Settings, *, clock: Clock | None = None, random: RandomSource | None = None
) -> Runtime:
    """The one object graph that `serve`, `worker`, the CLI and the tests share."""
    clock = clock or SystemClock()
    random = random or SystemRandom()
    if settings.default_sender is not None:
        validate_sender(settings.default_sender, field="OTPGATE_DEFAULT_SENDER")
    generated = load_or_create_secrets(settings.data_dir, settings.secret_key, settings.admin_token)
    database = open_database(settings.resolved_database_url, pool_size=settings.database_pool_size)
    sealer = Sealer(derive_key(generated.secret_key, "sealing"))
    dev_outbox = SqlDevOutbox(database)
    senders = [_sender(name) for name in settings.providers]
    metrics = Metrics()
    worker = DeliveryWorker(SqlMessageQueue(database), senders, sealer, clock, metrics)
    verifications = VerificationService(
        SqlVerificationStore(database),
        clock,
        random,
        CodeHasher(derive_key(generated.secret_key, "code-hash")),
        sealer,
        metrics,
        settings.default_sender,
        on_message_queued=worker.wake,
    )
    return Runtime(
        settings=settings,
        secrets=generated,
        database=database,
        clock=clock,
        metrics=metrics,
        apps=AppService(
            SqlAppStore(database), clock, random, derive_key(generated.secret_key, "api-key-hash")
        ),
        verifications=verifications,
        opt_ins=OptInService(SqlOptInStore(database), verifications, clock, random),
        outbox=DevOutboxReader(dev_outbox, sealer) if settings.providers == ["outbox"] else None,
        worker=worker,
    )


def _sender(name: str) -> SmsSender:
    if name == "outbox":
        return OutboxSender()
    raise ConfigError(f"OTPGATE_SMS_PROVIDER: the {name} provider is not available in this version")


def migrate(runtime: Runtime) -> None:
    upgrade(runtime.database)


def bootstrap_default_app(runtime: Runtime) -> NewApiKey | None:
    """On an empty database, create the `default` app and its first key (shown once)."""
    if runtime.apps.list_apps():
        return None
    app: App = runtime.apps.create_app(DEFAULT_APP_NAME)
    return runtime.apps.create_key(app.id)
