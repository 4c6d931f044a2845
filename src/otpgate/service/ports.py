"""The ports the use cases depend on; `store/` and `runtime` provide the implementations."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from otpgate.domain.channels import Channel, Step, StepState
from otpgate.domain.gsm import Encoding
from otpgate.domain.limits import Bucket
from otpgate.domain.policy import AppSettings
from otpgate.domain.verification import DeliveryStatus, Verification

T = TypeVar("T")


class Clock(Protocol):
    def now(self) -> datetime: ...


class RandomSource(Protocol):
    def choice(self, symbols: str) -> str: ...

    def token_bytes(self, count: int) -> bytes: ...


class Transaction(Protocol):
    """One unit of work, opened by a service and handed to every store call that is part of
    it: they commit together, or roll back together if the block raises. A store never finds
    a transaction on its own (store/transaction.py)."""

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Call back once the work is durable (never if it rolls back)."""
        ...


class Transactions(Protocol):
    """Opens a transaction: `with transactions() as tx:`."""

    def __call__(self) -> AbstractContextManager[Transaction]: ...


class Executor(Protocol):
    """Where blocking work runs (store/executor.py): every route and background loop hands
    its calls to `run`, and those calls open their transactions with `transaction`."""

    def run(self, call: Callable[[], T]) -> Awaitable[T]: ...

    def transaction(self) -> AbstractContextManager[Transaction]: ...


@dataclass(frozen=True)
class App:
    id: str
    name: str
    settings: AppSettings
    webhook_secret: str
    created_at: datetime


@dataclass(frozen=True)
class ApiKeyRecord:
    key_id: str
    app_id: str
    secret_hash: str
    created_at: datetime


@dataclass(frozen=True)
class ApiKeyInfo:
    """What may be shown of a key: never its secret or hash."""

    key_id: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class QueuedMessage:
    id: str
    app_id: str
    verification_id: str
    to: str
    sender: str | None
    body_sealed: bytes
    attempts: int
    created_at: datetime
    encoding: Encoding | None  # None for a message queued before segments were counted
    segments: int | None
    channel: Channel = Channel.SMS


@dataclass(frozen=True)
class PendingVerification:
    verification: Verification
    code_sealed: bytes | None


@dataclass(frozen=True)
class IdempotentAnswer:
    fingerprint: str
    created: bool
    verification: Verification


@dataclass(frozen=True)
class OutboxEntry:
    id: str
    app_id: str
    to: str
    sender: str | None
    body_sealed: bytes
    verification_id: str
    created_at: datetime
    channel: Channel


@dataclass(frozen=True)
class ListQuery:
    to: str | None
    status: str | None
    limit: int
    before_id: str | None


class WriteConflict(Exception):
    """A concurrent transaction committed the same unique key first (two starts for one
    number, or one idempotency key, on PostgreSQL). The transaction is rolled back; running
    it again sees the other's row."""


class VerificationStore(Protocol):
    """Verifications. A method that writes takes the transaction it is part of (opened with
    `transaction()`); `find_pending` locks the pending row until that transaction ends, so two
    re-sends of it are counted one after the other."""

    def transaction(self) -> AbstractContextManager[Transaction]: ...

    def find_idempotent(
        self, tx: Transaction, app_id: str, key: str, since: datetime
    ) -> IdempotentAnswer | None: ...

    def remember_idempotent(
        self, tx: Transaction, app_id: str, key: str, answer: IdempotentAnswer, now: datetime
    ) -> None: ...

    def find_pending(self, tx: Transaction, app_id: str, to: str) -> PendingVerification | None: ...

    def expire(self, tx: Transaction, verification_id: str, now: datetime) -> None: ...

    def insert(
        self,
        tx: Transaction,
        verification: Verification,
        code_hash: str,
        code_sealed: bytes,
        message: QueuedMessage | None,
    ) -> None:
        """Store a new verification with its first message, queued (none: a test number)."""
        ...

    def record_resend(
        self,
        tx: Transaction,
        verification_id: str,
        message: QueuedMessage | None,
        now: datetime,
        channel: str,
    ) -> Verification:
        """Queue another message for a pending verification (a workflow's next step, when
        `channel` is that step's) and count the send."""
        ...

    def add_alias(
        self, tx: Transaction, app_id: str, alias_hash: str, verification_id: str, now: datetime
    ) -> None: ...

    def get(
        self, app_id: str, verification_id: str, tx: Transaction | None = None
    ) -> Verification | None:
        """In `tx` (when given), seeing what it wrote so far."""
        ...

    def list(self, app_id: str, query: ListQuery, now: datetime) -> list[Verification]: ...

    def pending_id_for(self, app_id: str, to: str) -> str | None: ...

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
        """Count one attempt atomically (the code matches if its stored hash is any of
        `code_hashes`, one per live secret key); None when the verification is unknown or
        not pending, or, with `key_id`, when that API key of the app has been revoked."""
        ...

    def cancel(
        self, tx: Transaction, app_id: str, verification_id: str, now: datetime
    ) -> Verification | None: ...

    def lock(
        self, tx: Transaction, app_id: str, verification_id: str, now: datetime
    ) -> Verification | None:
        """Lock a pending verification (its number spent its failure budget)."""
        ...

    def conversion(self, app_id: str, prefix: str, since: datetime) -> tuple[int, int]:
        """(verifications created, of them approved) since then, to numbers in the prefix."""
        ...

    def find_alias(self, alias_hash: str) -> tuple[str, str] | None:
        """(app id, verification id) of a vendor's name for a verification."""
        ...


@dataclass(frozen=True)
class DueStep:
    """A workflow step to send now, with its verification as stored (and its sealed code)."""

    verification: Verification
    code_sealed: bytes | None
    position: int
    channel: Channel
    timeout_seconds: int


class WorkflowStore(Protocol):
    """The steps of workflows of more than one step. A step goes out in the transaction that
    claims it: the claim locks its row (skipping rows another node holds), so its message is
    queued once, or, if that transaction dies, not at all and the step is still due."""

    def insert_steps(
        self,
        tx: Transaction,
        verification_id: str,
        steps: Sequence[Step],
        first_message_id: str,
        now: datetime,
    ) -> None:
        """The first step as sent (its message queued with the start), the rest waiting."""
        ...

    def claim_due(self, tx: Transaction, now: datetime, limit: int) -> list[DueStep]: ...

    def next_waiting(
        self, tx: Transaction, app_id: str, verification_id: str
    ) -> tuple[Verification, DueStep | None] | None:
        """The verification (None: unknown to the app) and its first waiting step, locked."""
        ...

    def mark_sent(self, tx: Transaction, step: DueStep, message_id: str, now: datetime) -> None:
        """The step went out with this message; the one after it is due after its timeout."""
        ...

    def skip(self, tx: Transaction, step: DueStep, now: datetime) -> None:
        """The step will not go out (a limit refused it); the one after it is due now."""
        ...

    def skip_waiting(self, tx: Transaction, verification_id: str) -> None:
        """No step of the verification goes out any more."""
        ...

    def states_of(self, verification_ids: Sequence[str]) -> dict[str, tuple[StepState, ...]]: ...


class RetentionStore(Protocol):
    """Deletes old records a batch per call; each returns how many it deleted."""

    def delete_verifications_before(
        self, tx: Transaction, cutoff: datetime, batch_size: int
    ) -> int: ...

    def delete_records_before(self, tx: Transaction, cutoff: datetime, batch_size: int) -> int: ...


@dataclass(frozen=True)
class DeliveryResult:
    """What became of one claimed message."""

    message_id: str
    # SENT or DELIVERED: handed over; FAILED: for good; QUEUED: try again at `retry_at`
    status: DeliveryStatus
    provider: str | None = None
    provider_message_id: str | None = None
    error: str | None = None
    retry_at: datetime | None = None
    keep_body: bool = False  # the developer outbox keeps the text to show it back


class MessageQueue(Protocol):
    """The delivery worker's view of queued messages."""

    def claim(
        self, tx: Transaction, limit: int, now: datetime, lease_seconds: int
    ) -> list[QueuedMessage]: ...

    def finish(
        self, tx: Transaction, results: Sequence[DeliveryResult], now: datetime
    ) -> list[Verification]:
        """Record a batch of results in one transaction; returns the verifications that
        became undeliverable because their newest message failed for good."""
        ...


class ExpiryStore(Protocol):
    def erase_expired_codes(self, tx: Transaction, now: datetime, limit: int) -> list[Verification]:
        """Drop the sealed code of up to `limit` verifications past expiry, each once, and
        return them as stored (a pending one still says pending: it expires when read)."""
        ...


class DevOutbox(Protocol):
    def read(
        self, app_id: str | None, to: str | None, limit: int, channels: Sequence[Channel]
    ) -> list[OutboxEntry]:
        """The newest messages of these channels the outbox provider kept, or will."""
        ...


class AppStore(Protocol):
    def transaction(self) -> AbstractContextManager[Transaction]: ...

    def insert_app(self, tx: Transaction, app: App) -> None: ...

    def get_app(self, app_id: str, tx: Transaction | None = None) -> App | None: ...

    def get_app_by_name(self, name: str) -> App | None: ...

    def list_apps(self) -> list[App]: ...

    def update_settings(
        self, tx: Transaction, app_id: str, settings: AppSettings, now: datetime
    ) -> None: ...

    def insert_key(self, tx: Transaction, key: ApiKeyRecord) -> None: ...

    def revoke_key(self, tx: Transaction, app_id: str | None, key_id: str, now: datetime) -> bool:
        """Revoke a live key (of `app_id`, when given); False if there is none."""
        ...

    def list_keys(self, app_id: str) -> list[ApiKeyInfo]: ...

    def find_key(self, key_id: str) -> tuple[str, App] | None:
        """The secret hash of a live key and its app."""
        ...


class Observer(Protocol):
    """Hears what happened, for metrics (and later webhooks); never decides anything."""

    def verification_status(self, tx: Transaction, verification: Verification) -> None:
        """In the transaction that made the change: what it queues commits with it."""
        ...

    def check_outcome(self, outcome: str) -> None: ...

    def message_status(self, status: DeliveryStatus) -> None: ...


@dataclass(frozen=True)
class OptIn:
    id: str
    app_id: str
    external_id: str
    to: str
    verified_at: datetime
    source: str


class OptInStore(Protocol):
    def transaction(self) -> AbstractContextManager[Transaction]: ...

    def record(self, tx: Transaction, opt_in: OptIn) -> None:
        """Insert, or refresh `verified_at` of the same (app, external id, number, source)."""
        ...

    def list(
        self,
        app_id: str,
        external_id: str | None,
        to: str | None,
        limit: int,
        before_id: str | None,
    ) -> list[OptIn]: ...


@dataclass(frozen=True)
class MessageRecord:
    """One message of a verification as its app may see it: never the text."""

    id: str
    verification_id: str
    status: DeliveryStatus
    provider: str | None
    provider_message_id: str | None
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    updated_at: datetime
    encoding: Encoding | None  # None for a message queued before segments were counted
    segments: int | None
    channel: Channel
    delivered_at: datetime | None


@dataclass(frozen=True)
class ReceiptUpdate:
    """A provider's report on one message, found by its id or by ours."""

    provider: str
    status: DeliveryStatus
    provider_message_id: str | None
    message_id: str | None
    error: str | None


class DeliveryLog(Protocol):
    """Messages after they left the queue: receipts, and the list an app may read."""

    def record_receipt(
        self, tx: Transaction, update: ReceiptUpdate, now: datetime
    ) -> Verification | None:
        """Move a message forward (never back); the verification it changed, if any. A receipt
        for a message not yet recorded as sent is kept and applied when it is."""
        ...

    def record_receipts(
        self, tx: Transaction, receipts: Sequence[ReceiptUpdate], now: datetime
    ) -> list[Verification]:
        """The same for several receipts, in one transaction."""
        ...

    def messages_of(self, app_id: str, verification_id: str) -> list[MessageRecord]: ...

    def reconcile(self, tx: Transaction, now: datetime) -> list[Verification]:
        """Apply early receipts whose messages are recorded by now; drop stale ones."""
        ...


@dataclass(frozen=True)
class ReceiptRequest:
    """An HTTP call a provider made to a receipt route, as read by the edge."""

    method: str
    url: str  # as the provider addressed it: OTPGATE_PUBLIC_URL + path + query, when set
    headers: Mapping[str, str]  # names in lower case
    query: Mapping[str, str]
    form: Mapping[str, str]
    json: Any = None
    body: bytes = b""


@dataclass(frozen=True)
class WebhookEvent:
    """One status webhook to send: the body is fixed when the change happens."""

    id: str
    app_id: str
    verification_id: str | None  # None: an app-wide event (a fraud block, a spend cap)
    url: str
    body: str
    created_at: datetime


@dataclass(frozen=True)
class DueWebhook:
    id: str
    url: str
    body: str
    secret: str  # the app's webhook secret, at the time of sending
    attempts: int  # before this one
    created_at: datetime


@dataclass(frozen=True)
class WebhookAttempt:
    id: str
    event_id: str
    attempted_at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int
    delivered: bool
    retry_at: datetime | None  # None and not delivered: given up


class WebhookStore(Protocol):
    def enqueue(self, tx: Transaction, event: WebhookEvent) -> None:
        """Insert the event; it commits (or not) with the change that made it."""
        ...

    def claim(
        self, tx: Transaction, limit: int, now: datetime, lease_seconds: int
    ) -> list[DueWebhook]:
        """Lease due events to this dispatcher; a lease that runs out frees them again."""
        ...

    def record(self, tx: Transaction, attempts: Sequence[WebhookAttempt], now: datetime) -> None:
        """Record each attempt, and its event's new state, in one transaction."""
        ...

    def rotate_secret(self, tx: Transaction, app_id: str, secret: str, now: datetime) -> bool: ...


class Counters(Protocol):
    """Shared counters with expiry, correct across processes and nodes (Redis or SQL)."""

    def acquire(self, tx: Transaction, buckets: Sequence[Bucket], now: datetime) -> int | None:
        """All or nothing: count every bucket's cost, unless one has no room for it; then
        count nothing and return that bucket's index. The SQL counters count in `tx` (a
        refusal undoes only their own counts); Redis counts at once."""
        ...

    def add(self, tx: Transaction, bucket: Bucket, now: datetime) -> int:
        """Count unconditionally; the new total."""
        ...

    def read(self, keys: Sequence[str], now: datetime) -> list[int]: ...


@dataclass(frozen=True)
class FraudBlock:
    id: str
    app_id: str
    prefix: str
    country: str | None
    recent_sends: int
    baseline_per_hour: float
    started: int
    approved: int
    created_at: datetime
    expires_at: datetime
    lifted_at: datetime | None


class FraudBlockStore(Protocol):
    def active(self, app_id: str, prefix: str, now: datetime) -> FraudBlock | None:
        """The newest block of the prefix not yet expired, lifted or not."""
        ...

    def insert(self, tx: Transaction, block: FraudBlock, now: datetime) -> FraudBlock:
        """Record a block; if another process just blocked the prefix, that block instead."""
        ...

    def list(self, app_id: str, now: datetime) -> list[FraudBlock]:
        """Blocks in force, newest first."""
        ...

    def lift(
        self, tx: Transaction, app_id: str, block_id: str, now: datetime
    ) -> FraudBlock | None: ...


class AbuseObserver(Protocol):
    """Hears refusals for metrics, webhooks and logs; never decides anything."""

    def refused(self, app_id: str, limit: str) -> None: ...

    def fraud_blocked(self, tx: Transaction, block: FraudBlock) -> None: ...

    def spend_cap_reached(
        self, tx: Transaction, app_id: str, cap: str, limit: int, retry_after: int
    ) -> None: ...
