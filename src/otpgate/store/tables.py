"""The schema: every table, with a naming convention so migrations name constraints alike."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from otpgate.domain.policy import CALLBACK_URL_MAX_LENGTH

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on every database."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


apps = Table(
    "apps",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("settings", Text, nullable=False),
    Column("webhook_secret", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("key_id", String(40), primary_key=True),
    Column("app_id", String(40), ForeignKey("apps.id"), nullable=False, index=True),
    Column("secret_hash", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime),
)

verifications = Table(
    "verifications",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("app_id", String(40), ForeignKey("apps.id"), nullable=False),
    Column("to_number", String(20), nullable=False),
    Column("channel", String(10), nullable=False),
    Column("status", String(16), nullable=False),
    Column("country", String(2)),
    Column("line_type", String(20), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("max_attempts", Integer, nullable=False),
    Column("sends", Integer, nullable=False),
    Column("delivery_status", String(16), nullable=False),
    Column("external_id", String(128)),
    Column("reference", String(128)),
    Column("code_hash", String(64), nullable=False),
    # the code, sealed, only while pending: a re-send must carry the same code
    Column("code_sealed", LargeBinary),
    Column("last_message_id", String(40)),
    Column("created_at", UtcDateTime, nullable=False, index=True),  # retention walks by age
    Column("expires_at", UtcDateTime, nullable=False),
    Column("approved_at", UtcDateTime),
    Column("last_sent_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("locale", String(35)),  # the BCP 47 tag of its messages' text
    # more than 1: its steps are rows of workflow_steps; 1: its channel is its one step
    Column("workflow_steps", Integer, nullable=False, server_default="1"),
    Index("ix_verifications_app_id_id", "app_id", "id"),
    Index("ix_verifications_app_id_to_number_id", "app_id", "to_number", "id"),
    # the list filtered by status, newest first, without walking the app's other rows
    Index("ix_verifications_app_id_status_id", "app_id", "status", "id"),
    # at most one pending verification per app and number, whatever the concurrency
    Index(
        "uq_verifications_pending_number",
        "app_id",
        "to_number",
        unique=True,
        sqlite_where=text("status = 'pending'"),
        postgresql_where=text("status = 'pending'"),
    ),
    Index(
        "ix_verifications_pending_expiry",
        "expires_at",
        sqlite_where=text("code_sealed IS NOT NULL"),
        postgresql_where=text("code_sealed IS NOT NULL"),
    ),
)

messages = Table(
    "messages",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("app_id", String(40), ForeignKey("apps.id"), nullable=False),
    Column(
        "verification_id", String(40), ForeignKey("verifications.id"), nullable=False, index=True
    ),
    Column("to_number", String(20), nullable=False),
    Column("sender", String(16)),
    # the rendered text holds the code: sealed, and erased once the provider has it (the
    # developer outbox keeps it, to show it back)
    Column("body_sealed", LargeBinary),
    Column("status", String(16), nullable=False),
    Column("provider", String(20)),
    Column("provider_message_id", String(128)),
    Column("attempts", Integer, nullable=False),
    Column("last_error", String(500)),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("lease_until", UtcDateTime),
    Column("created_at", UtcDateTime, nullable=False),
    Column("sent_at", UtcDateTime),
    Column("updated_at", UtcDateTime, nullable=False),
    # how the text travels: gsm7 or ucs2, and the SMS segments it is sent (and billed) as
    Column("encoding", String(4)),
    Column("segments", Integer),
    Column("channel", String(10), nullable=False, server_default="sms"),  # sms, call, whatsapp
    Column("delivered_at", UtcDateTime),
    Index(
        "ix_messages_due",
        "next_attempt_at",
        sqlite_where=text("status IN ('queued', 'sending')"),
        postgresql_where=text("status IN ('queued', 'sending')"),
    ),
    # receipts find their message by the provider's id
    Index("ix_messages_provider_message_id", "provider_message_id"),
    # the developer outbox by number, newest first
    Index("ix_messages_to_number_created_at_id", "to_number", "created_at", "id"),
)

# the steps of a verification's workflow of more than one step: each waits for its due time,
# when any node's delivery worker sends it (store/workflows.py)
workflow_steps = Table(
    "workflow_steps",
    metadata,
    Column("verification_id", String(40), ForeignKey("verifications.id"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("channel", String(10), nullable=False),
    Column("timeout_seconds", Integer, nullable=False),
    Column("status", String(10), nullable=False),  # waiting, sent, skipped
    # a waiting step's time to go out; None while the step before it has not gone out
    Column("due_at", UtcDateTime),
    Column("message_id", String(40), index=True),
    Column("sent_at", UtcDateTime),
    Index(
        "ix_workflow_steps_due",
        "due_at",
        sqlite_where=text("status = 'waiting'"),
        postgresql_where=text("status = 'waiting'"),
    ),
)

# a receipt that came before its message was recorded as sent (SMPP receipts can beat their
# submit_sm_resp; HTTP callbacks can beat the worker's commit): applied once the message is
early_receipts = Table(
    "early_receipts",
    metadata,
    # "<provider>:<provider message id>" or "message:<our message id>"
    Column("receipt_key", String(180), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("error", String(500)),
    # reconciling reads the recent ones; the stale ones are deleted by age
    Column("received_at", UtcDateTime, nullable=False, index=True),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("app_id", String(40), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("created", Boolean, nullable=False),
    Column("answer", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False, index=True),
)

# a compatibility API's own name for a verification (dotdigital GUID, IDResponse token), hashed
verification_aliases = Table(
    "verification_aliases",
    metadata,
    Column("alias_hash", String(64), primary_key=True),
    Column("app_id", String(40), nullable=False),
    Column(
        "verification_id", String(40), ForeignKey("verifications.id"), nullable=False, index=True
    ),
    Column("created_at", UtcDateTime, nullable=False),
)

opt_ins = Table(
    "opt_ins",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("app_id", String(40), ForeignKey("apps.id"), nullable=False),
    Column("external_id", String(128), nullable=False),
    Column("to_number", String(20), nullable=False),
    Column("source", String(20), nullable=False),
    Column("verified_at", UtcDateTime, nullable=False),
    Index(
        "uq_opt_ins_app_id_external_id_to_number_source",
        "app_id",
        "external_id",
        "to_number",
        "source",
        unique=True,
    ),
    Index("ix_opt_ins_app_id_id", "app_id", "id"),
)

# status webhooks to an app's status_callback_url: one row per event, one per attempt
webhook_events = Table(
    "webhook_events",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("app_id", String(40), ForeignKey("apps.id"), nullable=False),
    # null for an app-wide event (a fraud block, a spend cap reached)
    Column("verification_id", String(40), nullable=True, index=True),
    Column("url", String(CALLBACK_URL_MAX_LENGTH), nullable=False),
    Column("body", Text, nullable=False),
    Column("status", String(16), nullable=False),  # pending, delivered, failed
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("last_error", String(500)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index(
        "ix_webhook_events_due",
        "next_attempt_at",
        sqlite_where=text("status = 'pending'"),
        postgresql_where=text("status = 'pending'"),
    ),
)

webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("event_id", String(40), ForeignKey("webhook_events.id"), nullable=False, index=True),
    Column("attempted_at", UtcDateTime, nullable=False),
    Column("status_code", Integer),
    Column("error", String(500)),
    Column("duration_ms", Integer, nullable=False),
)

# rate-limit counters when there is no Redis: one row per key and window (the key names it)
rate_counters = Table(
    "rate_counters",
    metadata,
    Column("key", String(255), primary_key=True),
    Column("count", Integer, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False, index=True),
)

# prefixes the SMS-pumping guard blocked for an app, with the figures that convinced it
fraud_blocks = Table(
    "fraud_blocks",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("app_id", String(40), ForeignKey("apps.id"), nullable=False),
    Column("prefix", String(20), nullable=False),
    Column("country", String(2)),
    Column("recent_sends", Integer, nullable=False),
    Column("baseline_per_hour", Double, nullable=False),
    Column("started", Integer, nullable=False),
    Column("approved", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("lifted_at", UtcDateTime),
    Index("ix_fraud_blocks_app_id_prefix_expires_at", "app_id", "prefix", "expires_at"),
)

# operator console sessions: the cookie holds a random token, this table its hash
console_sessions = Table(
    "console_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    # slides forward with use: a session ends after 12 hours without any
    Column("expires_at", UtcDateTime, nullable=False, index=True),
)

# what a lookup provider said about a number, shared by every app and node for a while
# (each app's lookup_cache_days decides how old an answer it takes)
network_lookups = Table(
    "network_lookups",
    metadata,
    Column("number", String(20), primary_key=True),
    Column("provider", String(16), nullable=False),
    Column("line_type", String(24), nullable=False),
    Column("reachable", Boolean),
    Column("carrier_name", String(128)),
    Column("mobile_country_code", String(8)),
    Column("mobile_network_code", String(8)),
    Column("high_risk", Boolean, nullable=False),
    Column("ported", Boolean),
    Column("roaming", Boolean),
    Column("checked_at", UtcDateTime, nullable=False, index=True),
)
