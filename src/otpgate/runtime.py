"""Composition root: settings in; database, stores, services, senders and worker out."""

from __future__ import annotations

import secrets
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import structlog
from sqlalchemy.exc import SQLAlchemyError

from otpgate.config import ConfigError, Settings
from otpgate.datadir import Secrets, load_or_create_secrets
from otpgate.delivery.circuit import CircuitBreaker
from otpgate.delivery.expiry import ExpirySweep
from otpgate.delivery.lookups import http as http_lookup
from otpgate.delivery.lookups import twilio as twilio_lookup
from otpgate.delivery.lookups import vonage as vonage_lookup
from otpgate.delivery.protocol import (
    CallSender,
    ReceiptReader,
    ReceiptSink,
    SmsSender,
    WhatsAppSender,
)
from otpgate.delivery.receipts import ReceiptInbox
from otpgate.delivery.retention import RetentionJob
from otpgate.delivery.senders import http as http_provider
from otpgate.delivery.senders import (
    http_voice,
    smpp_tls,
    twilio_voice,
    twilio_whatsapp,
    vonage_voice,
    vonage_whatsapp,
)
from otpgate.delivery.senders import meta as meta_provider
from otpgate.delivery.senders import smpp as smpp_provider
from otpgate.delivery.senders import twilio as twilio_provider
from otpgate.delivery.senders import vonage as vonage_provider
from otpgate.delivery.senders.outbox import OutboxSender
from otpgate.delivery.senders.vonage_application import (
    VonageApplicationConfig,
    read_private_key,
)
from otpgate.delivery.webhooks import WebhookDispatcher
from otpgate.delivery.worker import DeliveryWorker
from otpgate.domain.channels import Channel
from otpgate.domain.codes import CodeHasher
from otpgate.domain.errors import Conflict
from otpgate.domain.phone import LineType
from otpgate.domain.templates import validate_sender
from otpgate.metrics import Metrics
from otpgate.service.abuse import AbuseGuard
from otpgate.service.abuse_alerts import AbuseAlerts
from otpgate.service.analytics import AnalyticsService
from otpgate.service.app_directory import AppDirectory
from otpgate.service.apps import AppService, NewApiKey
from otpgate.service.console_sessions import ConsoleSessions
from otpgate.service.deliveries import DeliveryTracker, ProviderRoutes
from otpgate.service.flood import FailedAuthentications, FloodGuard
from otpgate.service.lookups import NetworkLookups, NumberLookup
from otpgate.service.opt_ins import OptInService
from otpgate.service.outbox import DevOutboxReader
from otpgate.service.ports import App, Clock, Counters, RandomSource
from otpgate.service.sealing import Sealer, derive_key
from otpgate.service.verifications import VerificationService
from otpgate.service.webhooks import WebhookEmitter, WebhookObserver, WebhookSecrets
from otpgate.service.workflows import WorkflowService
from otpgate.store.analytics import SqlAnalytics
from otpgate.store.apps import SqlAppStore
from otpgate.store.console_sessions import SqlConsoleSessions
from otpgate.store.counters import SqlCounters
from otpgate.store.database import Database, open_database
from otpgate.store.fraud_blocks import SqlFraudBlockStore
from otpgate.store.lookups import SqlLookupCache
from otpgate.store.messages import SqlDevOutbox, SqlMessageQueue
from otpgate.store.migrate import upgrade
from otpgate.store.opt_ins import SqlOptInStore
from otpgate.store.outages import DATABASE_UNAVAILABLE, STORAGE_FULL, outage_code
from otpgate.store.receipts import SqlDeliveryLog
from otpgate.store.retention import SqlRetention
from otpgate.store.verifications import SqlVerificationStore
from otpgate.store.webhooks import SqlWebhookStore
from otpgate.store.workflows import SqlWorkflowStore

DEFAULT_APP_NAME = "default"
SQLITE_POLL_SECONDS = 0.25
# with NOTIFY the poll only finds retries that came due and leases that ran out
POSTGRESQL_POLL_SECONDS = 1.0
# the longest lookup_cache_days an app may set: older answers serve nobody
LOOKUP_CACHE_MAX_AGE = timedelta(days=365)

T = TypeVar("T")


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
    workflows: WorkflowService
    opt_ins: OptInService
    outbox: DevOutboxReader | None  # None unless the provider is the developer outbox
    worker: DeliveryWorker
    deliveries: DeliveryTracker
    receipts: ReceiptInbox
    webhooks: SqlWebhookStore
    webhook_secrets: WebhookSecrets
    retention: RetentionJob  # runs beside the worker; tests call `sweep` directly
    expiry: ExpirySweep  # the same
    abuse: AbuseGuard
    flood: FloodGuard
    failed_authentications: FailedAuthentications
    analytics: AnalyticsService
    console_sessions: ConsoleSessions
    lookups: NetworkLookups

    async def run(self, call: Callable[[], T]) -> T:
        """Run a blocking service call off the event loop: the one executor of every route
        (store/executor.py)."""
        return await self.database.run(call)

    def unready(self) -> str | None:
        """Why the database cannot serve now, as an outage's code (the database unreachable,
        its disk full), or None when it can."""
        try:
            with self.database.read() as connection:
                connection.exec_driver_sql("SELECT 1")
        except SQLAlchemyError:
            return DATABASE_UNAVAILABLE
        return STORAGE_FULL if self.database.storage_full() else None

    def outage_of(self, error: BaseException) -> str | None:
        """The code of the outage `error` is (the database down or its disk full), else None."""
        return outage_code(error)

    def close(self) -> None:
        self.database.dispose()

    async def aclose(self) -> None:
        """Close what lives on the event loop (the lookup provider's connections)."""
        await self.lookups.close()


def build_runtime(
    settings: Settings, *, clock: Clock | None = None, random: RandomSource | None = None
) -> Runtime:
    """The one object graph that `serve`, `worker`, the CLI and the tests share."""
    clock = clock or SystemClock()
    random = random or SystemRandom()
    if settings.default_sender is not None:
        validate_sender(settings.default_sender, field="OTPGATE_DEFAULT_SENDER")
    lookup_provider = _lookup_provider(settings)  # a bad setting stops us before the database
    generated = load_or_create_secrets(settings.data_dir, settings.secret_key, settings.admin_token)
    database = open_database(settings.resolved_database_url, pool_size=settings.database_pool_size)
    sealer = Sealer(*_derived_keys(settings, generated, "sealing"))
    dev_outbox = SqlDevOutbox(database)
    metrics = Metrics()
    verification_store = SqlVerificationStore(database)
    workflow_store = SqlWorkflowStore(database)
    app_store = SqlAppStore(database)
    webhook_store = SqlWebhookStore(database)
    directory = AppDirectory(app_store, clock)  # the one cache of apps and keys
    emitter = WebhookEmitter(webhook_store, directory, clock, random)
    dispatcher = WebhookDispatcher(
        webhook_store,
        database,
        clock,
        random,
        retry_base_seconds=settings.webhook_retry_base_seconds,
    )
    emitter.on_enqueued = dispatcher.wake
    observer = WebhookObserver(metrics, emitter)
    sql_counters = SqlCounters(database)
    counters = _counters(settings, sql_counters, metrics)
    lookup_cache = SqlLookupCache(database)
    guard = AbuseGuard(
        database.transaction,
        counters,
        SqlFraudBlockStore(database),
        verification_store,
        random,
        AbuseAlerts(metrics, emitter, structlog.get_logger("otpgate.abuse").warning),
    )
    delivery_log = SqlDeliveryLog(database, settings.early_receipts_max)
    deliveries = DeliveryTracker(
        delivery_log,
        verification_store,
        clock,
        observer,
        database.transaction,
        emitter.verification_changed,
    )
    receipts = ReceiptInbox(
        _receipt_readers(settings),
        deliveries,
        database,
        transient=lambda error: outage_code(error) is not None,
        on_retry=metrics.receipt_retries.inc,
    )
    senders = [_sender(name, settings, receipts.sink) for name in settings.providers]
    call_senders = [_call_sender(name, settings) for name in settings.voice_providers]
    whatsapp_senders = [_whatsapp_sender(name, settings) for name in settings.whatsapp_providers]
    retention = RetentionJob(
        SqlRetention(database),
        database,
        clock,
        retention=timedelta(days=settings.retention_days),
        batch_size=settings.retention_batch_size,
        sweep_seconds=settings.retention_sweep_seconds,
    )
    queue = SqlMessageQueue(database)
    expiry = ExpirySweep(
        queue,
        database,
        clock,
        emitter.verification_changed,
        sweep_seconds=settings.expiry_sweep_seconds,
    )
    companions = [dispatcher.run, retention.run, expiry.run]
    notifications = None
    if not database.is_sqlite:
        from otpgate.store.notify import MessageNotifications  # loads psycopg: see _counters

        # other nodes queue messages too: their commits wake this worker (SQLite's worker
        # is woken in-process, below, and polls for other processes)
        notifications = MessageNotifications(database.postgresql_url(), lambda: worker.wake())
        companions.append(notifications.run)
    breakers = {
        name: CircuitBreaker(settings.circuit_failure_threshold, settings.circuit_reset_seconds)
        for name in settings.providers
    }
    for name, breaker in breakers.items():
        metrics.provider_circuit(name, breaker)
    worker = DeliveryWorker(
        queue,
        senders,
        sealer,
        clock,
        observer,
        database,
        retry_base_seconds=settings.delivery_retry_base_seconds,
        lease_seconds=settings.delivery_lease_seconds,
        batch_size=settings.delivery_batch_size,
        batches_in_flight=settings.delivery_batches_in_flight,
        breakers=breakers,
        on_sweep=lambda now: _upkeep(database, deliveries, sql_counters, lookup_cache, now),
        routes=ProviderRoutes(directory),
        on_finished=lambda tx, batch, results: emitter.batch_recorded(
            tx, batch, results, verification_store
        ),
        companions=companions,
        poll_seconds=POSTGRESQL_POLL_SECONDS if notifications else SQLITE_POLL_SECONDS,
        on_unopenable=metrics.messages_unopenable.inc,
        call_senders=call_senders,
        whatsapp_senders=whatsapp_senders,
        # `workflows` is built below, with the worker's wake: the lambda reads it when called
        steps=lambda: database.run(lambda: workflows.send_due()),
    )
    verifications = VerificationService(
        verification_store,
        clock,
        random,
        CodeHasher(*_derived_keys(settings, generated, "code-hash")),
        sealer,
        observer,
        guard,
        settings.default_sender,
        on_message_queued=worker.wake,
        workflows=workflow_store,
    )
    workflows = WorkflowService(
        workflow_store,
        verification_store,
        database.transaction,
        directory,
        clock,
        random,
        sealer,
        guard,
        settings.default_sender,
        on_message_queued=worker.wake,
    )

    outbox_channels = _outbox_channels(settings)
    return Runtime(
        settings=settings,
        secrets=generated,
        database=database,
        clock=clock,
        metrics=metrics,
        apps=AppService(
            app_store,
            clock,
            random,
            derive_key(generated.secret_key, "api-key-hash"),
            configured_providers=settings.providers,
            directory=directory,
            previous_key_hashing_keys=_derived_keys(settings, generated, "api-key-hash")[1],
        ),
        verifications=verifications,
        workflows=workflows,
        opt_ins=OptInService(SqlOptInStore(database), verifications, clock, random),
        outbox=DevOutboxReader(dev_outbox, sealer, outbox_channels) if outbox_channels else None,
        worker=worker,
        deliveries=deliveries,
        receipts=receipts,
        webhooks=webhook_store,
        webhook_secrets=WebhookSecrets(
            database.transaction, webhook_store, app_store, clock, random
        ),
        retention=retention,
        expiry=expiry,
        abuse=guard,
        flood=FloodGuard(database.transaction, counters, clock, settings.flood_requests_per_minute),
        failed_authentications=FailedAuthentications(
            database.transaction, counters, clock, settings.failed_authentications_per_minute
        ),
        analytics=AnalyticsService(SqlAnalytics(database), clock),
        console_sessions=ConsoleSessions(
            database.transaction,
            SqlConsoleSessions(database),
            clock,
            random,
            generated.admin_token,
            derive_key(generated.secret_key, "console-session"),
        ),
        lookups=NetworkLookups(
            lookup_provider,
            database.transaction,
            lookup_cache,
            counters,
            database.run,
            clock,
            metrics,
            timeout_seconds=settings.lookup_timeout_seconds,
        ),
    )


def _derived_keys(
    settings: Settings, generated: Secrets, purpose: str
) -> tuple[bytes, list[bytes]]:
    """The current secret key's key for `purpose`, and the previous secret keys' (rotation:
    what they made still works, everything new uses the current one)."""
    return derive_key(generated.secret_key, purpose), [
        derive_key(previous, purpose) for previous in settings.previous_keys
    ]


def _upkeep(
    database: Database,
    deliveries: DeliveryTracker,
    counters: SqlCounters,
    lookups: SqlLookupCache,
    now: datetime,
) -> None:
    deliveries.reconcile()
    with database.transaction() as tx:
        counters.purge(tx, now)
        lookups.purge(tx, now - LOOKUP_CACHE_MAX_AGE)


def _lookup_provider(settings: Settings) -> NumberLookup | None:
    """OTPGATE_LOOKUP_PROVIDER's adapter; None for `none`."""
    name = settings.lookup_provider
    if name == "twilio":
        _required_by(settings, "OTPGATE_LOOKUP_PROVIDER", "twilio_account_sid", "twilio_auth_token")
        assert settings.twilio_account_sid and settings.twilio_auth_token
        return twilio_lookup.TwilioLookup(
            twilio_lookup.TwilioLookupConfig(
                account_sid=settings.twilio_account_sid,
                auth_token=settings.twilio_auth_token,
                base_url=settings.twilio_lookup_base_url,
                fields=tuple(settings.twilio_lookup_fields.split(",")),
            )
        )
    if name == "vonage":
        _required_by(settings, "OTPGATE_LOOKUP_PROVIDER", "vonage_api_key", "vonage_api_secret")
        assert settings.vonage_api_key and settings.vonage_api_secret
        return vonage_lookup.VonageInsight(
            vonage_lookup.VonageInsightConfig(
                api_key=settings.vonage_api_key,
                api_secret=settings.vonage_api_secret,
                base_url=settings.vonage_insight_base_url,
                level=settings.vonage_insight_level,
            )
        )
    if name == "http":
        return _http_lookup(settings)
    return None


def _http_lookup(settings: Settings) -> NumberLookup:
    _required_by(settings, "OTPGATE_LOOKUP_PROVIDER", "lookup_http_url")
    assert settings.lookup_http_url is not None
    if "{to}" not in settings.lookup_http_url:
        raise ConfigError("OTPGATE_LOOKUP_HTTP_URL: must contain {to}")
    if not (settings.lookup_http_line_type_path or settings.lookup_http_reachable_path):
        raise ConfigError(
            "OTPGATE_LOOKUP_HTTP_LINE_TYPE_PATH: set it or OTPGATE_LOOKUP_HTTP_REACHABLE_PATH"
        )
    known = {line_type.value for line_type in LineType}
    wrong = sorted(v for v in settings.lookup_http_line_type_map.values() if v not in known)
    if wrong:
        raise ConfigError(f"OTPGATE_LOOKUP_HTTP_LINE_TYPE_MAP: {wrong[0]!r} is not a line type")
    return http_lookup.HttpLookup(
        http_lookup.HttpLookupConfig(
            url=settings.lookup_http_url,
            headers=settings.lookup_http_headers,
            line_type_path=settings.lookup_http_line_type_path,
            reachable_path=settings.lookup_http_reachable_path,
            carrier_path=settings.lookup_http_carrier_path,
            mcc_path=settings.lookup_http_mcc_path,
            mnc_path=settings.lookup_http_mnc_path,
            line_types={
                **http_lookup.DEFAULT_LINE_TYPES,
                **{k.lower(): v for k, v in settings.lookup_http_line_type_map.items()},
            },
            reachable={
                **http_lookup.DEFAULT_REACHABLE,
                **{k.lower(): v for k, v in settings.lookup_http_reachable_map.items()},
            },
        )
    )


def _required_by(settings: Settings, by: str, *names: str) -> None:
    for name in names:
        if not getattr(settings, name):
            raise ConfigError(f"OTPGATE_{name.upper()}: required by {by}")


def _counters(settings: Settings, database_counters: SqlCounters, metrics: Metrics) -> Counters:
    """Redis when configured (the database while it is down), else the database."""
    if settings.redis_url is None:
        return database_counters
    # imported when configured: the Redis client and psycopg are 6 and 9 MB of memory that a
    # process without Redis or PostgreSQL would hold for nothing
    from otpgate.store import redis_counters
    from otpgate.store.fallback_counters import FallbackCounters

    return FallbackCounters(
        redis_counters.RedisCounters(
            redis_counters.connect(settings.redis_url), settings.redis_key_prefix
        ),
        database_counters,
        on_fallback=metrics.counter_fallbacks.inc,
    )


def _sender(name: str, settings: Settings, sink: ReceiptSink) -> SmsSender:
    if name == "outbox":
        return OutboxSender()
    if name == "http":
        return _http_sender(settings)
    if name == "twilio":
        _required(settings, "twilio_account_sid", "twilio_auth_token")
        if not (settings.twilio_from or settings.twilio_messaging_service_sid):
            raise ConfigError("OTPGATE_TWILIO_FROM: set it or OTPGATE_TWILIO_MESSAGING_SERVICE_SID")
        assert settings.twilio_account_sid and settings.twilio_auth_token
        return twilio_provider.TwilioSender(
            twilio_provider.TwilioConfig(
                account_sid=settings.twilio_account_sid,
                auth_token=settings.twilio_auth_token,
                sender=settings.twilio_from,
                messaging_service_sid=settings.twilio_messaging_service_sid,
                base_url=settings.twilio_base_url,
                status_callback=_receipt_url(settings, twilio_provider.RECEIPT_PATH) or None,
            )
        )
    if name == "smpp":
        return _smpp_sender(settings, sink)
    if name == "vonage":
        _required(settings, "vonage_api_key", "vonage_api_secret")
        assert settings.vonage_api_key and settings.vonage_api_secret
        return vonage_provider.VonageSender(
            vonage_provider.VonageConfig(
                api_key=settings.vonage_api_key,
                api_secret=settings.vonage_api_secret,
                base_url=settings.vonage_base_url,
                callback=_receipt_url(settings, vonage_provider.RECEIPT_PATH) or None,
            )
        )
    raise ConfigError(f"OTPGATE_SMS_PROVIDER: the {name} provider is not available in this version")


def _call_sender(name: str, settings: Settings) -> CallSender:
    """The call provider `name` (OTPGATE_VOICE_PROVIDER)."""
    if name == "outbox":
        return OutboxSender()
    if name == "twilio":
        return _twilio_call_sender(settings)
    if name == "vonage":
        return _vonage_call_sender(settings)
    if name == "http":
        return _http_call_sender(settings)
    raise ConfigError(
        f"OTPGATE_VOICE_PROVIDER: the {name} provider is not available in this version"
    )


def _whatsapp_sender(name: str, settings: Settings) -> WhatsAppSender:
    """The WhatsApp provider `name` (OTPGATE_WHATSAPP_PROVIDER)."""
    if name == "outbox":
        return OutboxSender()
    if name == "meta":
        return _meta_sender(settings)
    if name == "twilio":
        return _twilio_whatsapp_sender(settings)
    if name == "vonage":
        return _vonage_whatsapp_sender(settings)
    raise ConfigError(
        f"OTPGATE_WHATSAPP_PROVIDER: the {name} provider is not available in this version"
    )


def _outbox_channels(settings: Settings) -> list[Channel]:
    """The channels whose one provider is the developer outbox: their messages are readable."""
    providers = {
        Channel.SMS: settings.providers,
        Channel.CALL: settings.voice_providers,
        Channel.WHATSAPP: settings.whatsapp_providers,
    }
    return [channel for channel, names in providers.items() if names == ["outbox"]]


def _smpp_sender(settings: Settings, sink: ReceiptSink) -> SmsSender:
    _required(settings, "smpp_host", "smpp_system_id")
    assert settings.smpp_host and settings.smpp_system_id
    if len(settings.smpp_system_id) > 15:
        raise ConfigError("OTPGATE_SMPP_SYSTEM_ID: at most 15 characters (SMPP 3.4)")
    if len(settings.smpp_password or "") > 8:
        raise ConfigError("OTPGATE_SMPP_PASSWORD: at most 8 characters (SMPP 3.4)")
    if len(settings.smpp_system_type) > 12:
        raise ConfigError("OTPGATE_SMPP_SYSTEM_TYPE: at most 12 characters (SMPP 3.4)")
    return smpp_provider.SmppSender(
        smpp_provider.SmppConfig(
            host=settings.smpp_host,
            port=settings.smpp_port,
            system_id=settings.smpp_system_id,
            password=settings.smpp_password or "",
            system_type=settings.smpp_system_type,
            throughput=settings.smpp_throughput,
            window=settings.smpp_window,
            enquire_link_seconds=settings.smpp_enquire_link_seconds,
            timeout_seconds=settings.smpp_timeout_seconds,
            tls=_smpp_tls(settings),
            tls_server_name=settings.smpp_tls_server_name,
        ),
        sink,
    )


def _smpp_tls(settings: Settings) -> ssl.SSLContext | None:
    if not settings.smpp_tls:
        return None
    if settings.smpp_tls_key_file and not settings.smpp_tls_cert_file:
        raise ConfigError("OTPGATE_SMPP_TLS_KEY_FILE: needs OTPGATE_SMPP_TLS_CERT_FILE")
    try:
        context = smpp_tls.tls_context(
            ca_file=settings.smpp_tls_ca_file, check_hostname=settings.smpp_tls_check_hostname
        )
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"OTPGATE_SMPP_TLS_CA_FILE: {exc}") from None
    if settings.smpp_tls_cert_file:
        key_file = settings.smpp_tls_key_file
        try:
            context.load_cert_chain(settings.smpp_tls_cert_file, key_file)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(f"OTPGATE_SMPP_TLS_CERT_FILE: {exc}") from None
    return context


def _receipt_readers(settings: Settings) -> dict[str, ReceiptReader]:
    """One reader per provider that some channel uses: a provider's SMS, calls and WhatsApp
    messages report to the same route (its senders share its name)."""
    used = {*settings.providers, *settings.voice_providers, *settings.whatsapp_providers}
    readers: dict[str, ReceiptReader] = {}
    if "http" in used and settings.http_receipts:
        readers["http"] = _http_receipts(settings)
    if "twilio" in used and settings.twilio_auth_token:
        readers["twilio"] = twilio_provider.TwilioReceiptReader(settings.twilio_auth_token)
    if "vonage" in used and settings.vonage_receipts:
        readers["vonage"] = vonage_provider.VonageReceiptReader(
            settings.vonage_signature_secret, settings.vonage_signature_method
        )
    if "meta" in used and settings.meta_app_secret:
        readers["meta"] = meta_provider.MetaReceiptReader(
            settings.meta_app_secret, settings.meta_verify_token
        )
    return readers


def _required(settings: Settings, *names: str) -> None:
    for name in names:
        if not getattr(settings, name):
            raise ConfigError(f"OTPGATE_{name.upper()}: required by OTPGATE_SMS_PROVIDER")


def _receipt_url(settings: Settings, path: str) -> str:
    return "" if settings.public_url is None else settings.public_url.rstrip("/") + path


def _http_sender(settings: Settings) -> SmsSender:
    _required(settings, "http_url")
    assert settings.http_url is not None
    try:
        accepted = http_provider.parse_accepted(settings.http_accepted_statuses)
    except ValueError as exc:
        raise ConfigError(f"OTPGATE_HTTP_ACCEPTED_STATUSES: {exc}") from None
    return http_provider.HttpGatewaySender(
        http_provider.HttpGatewayConfig(
            url=settings.http_url,
            method=settings.http_method,
            body=settings.http_body,
            body_format=settings.http_body_format,
            headers=settings.http_headers,
            accepted=accepted,
            message_id_path=settings.http_message_id_path,
            receipt_url=_http_receipt_url(settings, settings.http_message_id_path),
            timeout_seconds=settings.http_timeout_seconds,
        )
    )


def _http_call_sender(settings: Settings) -> CallSender:
    _required_by(settings, "OTPGATE_VOICE_PROVIDER", "http_voice_url")
    assert settings.http_voice_url is not None
    try:
        accepted = http_provider.parse_accepted(settings.http_voice_accepted_statuses)
    except ValueError as exc:
        raise ConfigError(f"OTPGATE_HTTP_VOICE_ACCEPTED_STATUSES: {exc}") from None
    format_ = settings.http_voice_body_format
    return http_voice.HttpCallSender(
        http_provider.HttpGatewayConfig(
            url=settings.http_voice_url,
            method=settings.http_voice_method,
            body=settings.http_voice_body or http_voice.DEFAULT_CALL_BODIES[format_],
            body_format=format_,
            headers=settings.http_voice_headers,
            accepted=accepted,
            message_id_path=settings.http_voice_message_id_path,
            receipt_url=_http_receipt_url(settings, settings.http_voice_message_id_path),
            timeout_seconds=settings.http_voice_timeout_seconds,
        ),
        settings.http_voice_from,
    )


def _http_receipt_url(settings: Settings, message_id_path: str | None) -> str:
    """`{receipt_url}`: names our message (unless the gateway's own id is used) and the token."""
    receipt_url = _receipt_url(settings, http_provider.RECEIPT_PATH)
    params = []
    if message_id_path is None:
        params.append(f"{settings.http_receipt_id_field}={{message_id}}")
    if settings.http_receipt_token:
        params.append(f"token={settings.http_receipt_token}")
    if receipt_url and params:
        receipt_url += "?" + "&".join(params)
    return receipt_url


def _http_receipts(settings: Settings) -> ReceiptReader:
    words = {"sent", "delivered", "undelivered"}
    wrong = sorted(value for value in settings.http_status_map.values() if value not in words)
    if wrong:
        raise ConfigError(
            f"OTPGATE_HTTP_STATUS_MAP: {wrong[0]!r} is not one of sent, delivered, undelivered"
        )
    return http_provider.HttpReceiptReader(
        settings.http_status_map,
        id_field=settings.http_receipt_id_field,
        status_field=settings.http_receipt_status_field,
        token=settings.http_receipt_token,
    )


def _twilio_call_sender(settings: Settings) -> CallSender:
    by = "OTPGATE_VOICE_PROVIDER"
    _required_by(settings, by, "twilio_account_sid", "twilio_auth_token")
    caller_id = settings.twilio_voice_from or settings.twilio_from
    if not caller_id or not caller_id.startswith("+"):
        raise ConfigError(f"OTPGATE_TWILIO_VOICE_FROM: a Twilio number (E.164) is required by {by}")
    assert settings.twilio_account_sid and settings.twilio_auth_token
    return twilio_voice.TwilioCallSender(
        twilio_voice.TwilioCallConfig(
            account_sid=settings.twilio_account_sid,
            auth_token=settings.twilio_auth_token,
            caller_id=caller_id,
            base_url=settings.twilio_base_url,
            status_callback=_receipt_url(settings, twilio_provider.RECEIPT_PATH) or None,
        )
    )


def _twilio_whatsapp_sender(settings: Settings) -> WhatsAppSender:
    by = "OTPGATE_WHATSAPP_PROVIDER"
    _required_by(
        settings,
        by,
        "twilio_account_sid",
        "twilio_auth_token",
        "twilio_whatsapp_from",
        "twilio_content_sid",
    )
    assert settings.twilio_account_sid and settings.twilio_auth_token
    assert settings.twilio_whatsapp_from and settings.twilio_content_sid
    return twilio_whatsapp.TwilioWhatsAppSender(
        twilio_whatsapp.TwilioWhatsAppConfig(
            account_sid=settings.twilio_account_sid,
            auth_token=settings.twilio_auth_token,
            sender=settings.twilio_whatsapp_from,
            content_sid=settings.twilio_content_sid,
            base_url=settings.twilio_base_url,
            status_callback=_receipt_url(settings, twilio_provider.RECEIPT_PATH) or None,
        )
    )


def _vonage_application(settings: Settings, by: str) -> VonageApplicationConfig:
    _required_by(settings, by, "vonage_application_id", "vonage_private_key_file")
    assert settings.vonage_application_id and settings.vonage_private_key_file
    try:
        private_key = read_private_key(settings.vonage_private_key_file)
    except ValueError as exc:
        raise ConfigError(f"OTPGATE_VONAGE_PRIVATE_KEY_FILE: {exc}") from None
    return VonageApplicationConfig(
        application_id=settings.vonage_application_id,
        private_key=private_key,
        base_url=settings.vonage_api_base_url,
    )


def _vonage_call_sender(settings: Settings) -> CallSender:
    by = "OTPGATE_VOICE_PROVIDER"
    application = _vonage_application(settings, by)
    _required_by(settings, by, "vonage_voice_from")
    assert settings.vonage_voice_from
    return vonage_voice.VonageCallSender(
        vonage_voice.VonageCallConfig(
            application=application,
            caller_id=settings.vonage_voice_from,
            event_url=_receipt_url(settings, vonage_provider.RECEIPT_PATH) or None,
        )
    )


def _vonage_whatsapp_sender(settings: Settings) -> WhatsAppSender:
    by = "OTPGATE_WHATSAPP_PROVIDER"
    application = _vonage_application(settings, by)
    _required_by(settings, by, "vonage_whatsapp_from", "vonage_whatsapp_template")
    assert settings.vonage_whatsapp_from and settings.vonage_whatsapp_template
    return vonage_whatsapp.VonageWhatsAppSender(
        vonage_whatsapp.VonageWhatsAppConfig(
            application=application,
            sender=settings.vonage_whatsapp_from,
            template=settings.vonage_whatsapp_template,
            status_url=_receipt_url(settings, vonage_provider.RECEIPT_PATH) or None,
        )
    )


def _meta_sender(settings: Settings) -> WhatsAppSender:
    _required_by(
        settings,
        "OTPGATE_WHATSAPP_PROVIDER",
        "meta_access_token",
        "meta_phone_number_id",
        "meta_template",
    )
    assert settings.meta_access_token and settings.meta_phone_number_id and settings.meta_template
    return meta_provider.MetaWhatsAppSender(
        meta_provider.MetaConfig(
            access_token=settings.meta_access_token,
            phone_number_id=settings.meta_phone_number_id,
            template=settings.meta_template,
            base_url=settings.meta_base_url,
            api_version=settings.meta_api_version,
        )
    )


def migrate(runtime: Runtime) -> None:
    upgrade(runtime.database)


def bootstrap_default_app(runtime: Runtime) -> NewApiKey | None:
    """On an empty database, create the `default` app and its first key (shown once)."""
    if runtime.apps.list_apps():
        return None
    try:
        app: App = runtime.apps.create_app(DEFAULT_APP_NAME)
    except Conflict:
        return None  # another node starting at the same moment made it, and shows its key
    return runtime.apps.create_key(app.id)
