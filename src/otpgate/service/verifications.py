"""Start, re-send, check, cancel and read verifications."""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

from otpgate.domain.codes import CodeHasher, generate_code
from otpgate.domain.errors import (
    Conflict,
    ExpiryInvalid,
    IdempotencyConflict,
    NotFound,
    NotPending,
    RateLimited,
    ValidationFailed,
)
from otpgate.domain.phone import PhoneNumber, parse_number
from otpgate.domain.policy import (
    MAX_TTL_SECONDS,
    Narrowing,
    enforce_destination_policy,
    enforce_sender_policy,
    narrow,
)
from otpgate.domain.templates import (
    render_template,
    used_extra_values,
    validate_sender,
    validate_template,
)
from otpgate.domain.verification import (
    CheckOutcome,
    CheckResult,
    DeliveryStatus,
    Status,
    Verification,
)
from otpgate.service.ids import new_id
from otpgate.service.ports import (
    App,
    Clock,
    IdempotentAnswer,
    ListQuery,
    Observer,
    QueuedMessage,
    RandomSource,
    VerificationStore,
    VerificationWriter,
    WriteConflict,
)
from otpgate.service.sealing import Sealer

IDEMPOTENCY_WINDOW = timedelta(hours=24)
START_ATTEMPTS = 3  # a start meets another's commit at most once per unique key it writes
MAX_SUBMITTED_CODE_LENGTH = 64
MAX_LABEL_LENGTH = 128  # external_id and reference
ALIAS_TOKEN_SYMBOLS = "abcdefghijklmnopqrstuvwxyz0123456789"
# what no database column or JSON answer can hold: control characters and lone surrogates
_UNSTORABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_OUTCOMES = {
    Status.APPROVED: CheckOutcome.APPROVED,
    Status.PENDING: CheckOutcome.WRONG_CODE,
    Status.LOCKED: CheckOutcome.LOCKED,
    Status.EXPIRED: CheckOutcome.EXPIRED,
}


@dataclass(frozen=True)
class VendorAlias:
    vendor: str
    value: str

    def hashed(self) -> str:
        # stored hashed: some aliases (IDResponse tokens) are the only credential a call needs
        return hashlib.sha256(f"{self.vendor}\x00{self.value}".encode()).hexdigest()


@dataclass(frozen=True)
class StartRequest:
    """What a caller asks for; None means "the app's setting"."""

    to: str
    country: str | None = None
    channel: str = "sms"
    template: str | None = None
    sender: str | None = None
    code_length: int | None = None
    ttl_seconds: int | None = None
    # an absolute expiry instead of ttl_seconds, with the caller's own bound on how far ahead
    valid_until: datetime | None = None
    valid_until_within_seconds: int = MAX_TTL_SECONDS
    locale: str | None = None
    external_id: str | None = None
    reference: str | None = None
    idempotency_key: str | None = None
    # a compatibility API's own name for the verification (a GUID, a continuation token)
    alias: VendorAlias | None = None
    narrowing: Narrowing | None = None
    # values for placeholders of the caller's own (IDResponse's `{fn}`); never re-expanded
    template_values: tuple[tuple[str, str], ...] = ()

    def fingerprint(self) -> str:
        fields = asdict(self)
        fields.pop("idempotency_key")
        encoded = json.dumps(fields, sort_keys=True, default=str)
        return hashlib.sha256(encoded.encode()).hexdigest()


@dataclass(frozen=True)
class StartResult:
    verification: Verification
    created: bool  # False: an earlier pending verification was re-sent
    message_id: str | None = None  # the message this call queued; None for an idempotent replay


class VerificationService:
    def __init__(
        self,
        store: VerificationStore,
        clock: Clock,
        random: RandomSource,
        hasher: CodeHasher,
        sealer: Sealer,
        observer: Observer,
        default_sender: str | None,
        on_message_queued: Callable[[], None],
    ) -> None:
        self._store = store
        self._clock = clock
        self._random = random
        self._hasher = hasher
        self._sealer = sealer
        self._observer = observer
        self._default_sender = default_sender
        self._on_message_queued = on_message_queued

    def start(self, app: App, request: StartRequest) -> StartResult:
        """Create a verification and queue its message, or re-send the pending one."""
        number = parse_number(request.to, request.country)
        _require_label(request.external_id, "external_id")
        _require_label(request.reference, "reference")
        settings = app.settings
        if request.narrowing is not None:
            settings = narrow(settings, request.narrowing)
        enforce_destination_policy(settings, number)
        sender = request.sender or settings.sender or self._default_sender
        if request.sender is not None:
            validate_sender(request.sender)
        enforce_sender_policy(settings, sender)
        template = (
            settings.template if request.template is None else validate_template(request.template)
        )
        extra_values = used_extra_values(template, dict(request.template_values))
        now = self._clock.now()
        lifetime = _lifetime(settings.ttl_seconds, request, now)
        for attempt in range(1, START_ATTEMPTS + 1):
            try:
                with self._store.writing() as writer:
                    earlier = self._replay(writer, app, request, now)
                    if earlier is not None:
                        return earlier
                    result = self._start_in(
                        writer, app, request, number, sender, template, extra_values, lifetime, now
                    )
                break
            except WriteConflict as conflict:
                # a concurrent start committed the same number or idempotency key first; run
                # again, and its row is the pending one (or its answer is replayed), as if the
                # two had run one after the other
                if attempt == START_ATTEMPTS:
                    raise Conflict("concurrent requests for this number; try again") from conflict
        self._on_message_queued()
        if result.created:
            self._observer.verification_status(result.verification)
        return result

    def _replay(
        self, writer: VerificationWriter, app: App, request: StartRequest, now: datetime
    ) -> StartResult | None:
        """The answer an earlier request with this idempotency key got, if any."""
        if request.idempotency_key is None:
            return None
        earlier = writer.find_idempotent(app.id, request.idempotency_key, now - IDEMPOTENCY_WINDOW)
        if earlier is None:
            return None
        if earlier.fingerprint != request.fingerprint():
            raise IdempotencyConflict("this idempotency_key was used with a different request")
        return StartResult(earlier.verification, earlier.created)

    def _start_in(
        self,
        writer: VerificationWriter,
        app: App,
        request: StartRequest,
        number: PhoneNumber,
        sender: str | None,
        template: str,
        extra_values: dict[str, str],
        lifetime: timedelta,
        now: datetime,
    ) -> StartResult:
        result = self._start_or_resend(
            writer, app, request, number, sender, template, extra_values, lifetime, now
        )
        if request.alias is not None:
            writer.add_alias(app.id, request.alias.hashed(), result.verification.id, now)
        if request.idempotency_key is not None:
            writer.remember_idempotent(
                app.id,
                request.idempotency_key,
                IdempotentAnswer(request.fingerprint(), result.created, result.verification),
                now,
            )
        return result

    def _start_or_resend(
        self,
        writer: VerificationWriter,
        app: App,
        request: StartRequest,
        number: PhoneNumber,
        sender: str | None,
        template: str,
        extra_values: dict[str, str],
        lifetime: timedelta,
        now: datetime,
    ) -> StartResult:
        pending = writer.find_pending(app.id, number.e164)
        if pending is not None and pending.verification.status_at(now) is Status.PENDING:
            verification = pending.verification
            self._enforce_resend_limits(app, verification, now)
            assert pending.code_sealed is not None, "a pending verification keeps its code"
            code = self._sealer.open(pending.code_sealed, verification.id)
            minutes = math.ceil((verification.expires_at - now).total_seconds() / 60)
            message = self._message(
                app, verification, sender, template, extra_values, code, minutes, now
            )
            resent = writer.record_resend(verification.id, message)
            return StartResult(resent, created=False, message_id=message.id)
        if pending is not None:
            writer.expire(pending.verification.id, now)
        settings = app.settings
        code_length = settings.code_length if request.code_length is None else request.code_length
        code = generate_code(code_length, settings.code_alphabet, self._random.choice)
        verification = Verification(
            id=new_id("ver", now, self._random),
            app_id=app.id,
            to=number.e164,
            channel=request.channel,
            status=Status.PENDING,
            country=number.country,
            line_type=number.line_type.value,
            attempts=0,
            max_attempts=settings.max_attempts,
            sends=1,
            delivery_status=DeliveryStatus.QUEUED,
            external_id=request.external_id,
            reference=request.reference,
            created_at=now,
            expires_at=now + lifetime,
            approved_at=None,
            last_sent_at=now,
        )
        minutes = math.ceil(lifetime.total_seconds() / 60)
        message = self._message(
            app, verification, sender, template, extra_values, code, minutes, now
        )
        writer.insert(
            verification,
            self._hasher.hash(verification.id, code),
            self._sealer.seal(code, verification.id),
            message,
        )
        return StartResult(verification, created=True, message_id=message.id)

    def _enforce_resend_limits(self, app: App, verification: Verification, now: datetime) -> None:
        if verification.sends >= app.settings.max_sends:
            retry = (verification.expires_at - now).total_seconds()
            raise RateLimited(
                "this verification was sent the most times allowed",
                retry_after=math.ceil(retry),
                field="to",
            )
        ready_at = verification.last_sent_at + timedelta(
            seconds=app.settings.resend_cooldown_seconds
        )
        if now < ready_at:
            raise RateLimited(
                "a code was sent to this number moments ago",
                retry_after=math.ceil((ready_at - now).total_seconds()),
                field="to",
            )

    def _message(
        self,
        app: App,
        verification: Verification,
        sender: str | None,
        template: str,
        extra_values: dict[str, str],
        code: str,
        minutes: int,
        now: datetime,
    ) -> QueuedMessage:
        values = {**extra_values, "code": code, "minutes": str(minutes), "app": app.name}
        body = render_template(template, values)
        message_id = new_id("msg", now, self._random)
        return QueuedMessage(
            id=message_id,
            app_id=app.id,
            verification_id=verification.id,
            to=verification.to,
            sender=sender,
            body_sealed=self._sealer.seal(body, message_id),
            attempts=0,
            created_at=now,
        )

    def check(self, app: App, verification_id: str, code: str) -> CheckResult:
        """Count one attempt; a wrong code is an outcome, a final verification a refusal."""
        _require_code(code)
        now = self._clock.now()
        code_hash = self._hasher.hash(verification_id, code)
        updated = self._store.check(app.id, verification_id, code_hash, now)
        if updated is None:
            current = self.get(app, verification_id)
            raise NotPending(f"the verification is {current.status}", status=current.status)
        result = CheckResult(updated, _OUTCOMES[updated.status])
        self._observer.check_outcome(result.outcome)
        if updated.status is not Status.PENDING:
            self._observer.verification_status(updated)
        return result

    def check_by_number(
        self, app: App, to: str, country: str | None, code: str, *, external_id: str | None = None
    ) -> CheckResult:
        """Check against the app's pending verification for a number (and external id)."""
        _require_code(code)
        number = parse_number(to, country)
        verification_id = self._store.pending_id_for(app.id, number.e164)
        if verification_id is not None and external_id is not None:
            pending = self._store.get(app.id, verification_id)
            if pending is None or pending.external_id != external_id:
                verification_id = None
        if verification_id is None:
            raise NotFound("no pending verification for this number", field="to")
        return self.check(app, verification_id, code)

    def new_alias(self, vendor: str, length: int = 32) -> VendorAlias:
        """A random name for a verification that a vendor's client will present as a credential."""
        token = "".join(self._random.choice(ALIAS_TOKEN_SYMBOLS) for _ in range(length))
        return VendorAlias(vendor, token)

    def find_alias(self, alias: VendorAlias) -> tuple[str, str] | None:
        """The (app id, verification id) a vendor's name stands for."""
        return self._store.find_alias(alias.hashed())

    def cancel(self, app: App, verification_id: str) -> Verification:
        now = self._clock.now()
        canceled = self._store.cancel(app.id, verification_id, now)
        if canceled is None:
            current = self.get(app, verification_id)
            raise NotPending(f"the verification is {current.status}", status=current.status)
        self._observer.verification_status(canceled)
        return canceled

    def get(self, app: App, verification_id: str) -> Verification:
        verification = self._store.get(app.id, verification_id)
        if verification is None:
            raise NotFound("no such verification")
        return verification.seen_at(self._clock.now())

    def list(self, app: App, query: ListQuery) -> list[Verification]:
        now = self._clock.now()
        return [v.seen_at(now) for v in self._store.list(app.id, query, now)]


def _require_label(value: str | None, field: str) -> None:
    """Labels are stored and shown back: short printable text (the native API checks the same)."""
    if value is not None and (len(value) > MAX_LABEL_LENGTH or _UNSTORABLE.search(value)):
        raise ValidationFailed(
            f"{field} is at most {MAX_LABEL_LENGTH} characters of text", field=field
        )


def _lifetime(default_seconds: int, request: StartRequest, now: datetime) -> timedelta:
    """How long the code is valid: ttl_seconds, an absolute valid_until, or the app's ttl."""
    if request.valid_until is not None:
        # a time without an offset is UTC, as the vendors that send one document
        until = request.valid_until
        lifetime = (until if until.tzinfo else until.replace(tzinfo=UTC)) - now
        if lifetime <= timedelta(0):
            raise ExpiryInvalid("valid_until is not in the future", reason="past")
        if lifetime > timedelta(seconds=request.valid_until_within_seconds):
            raise ExpiryInvalid(
                f"valid_until is more than {request.valid_until_within_seconds} seconds ahead",
                reason="too_far",
            )
        return lifetime
    ttl = default_seconds if request.ttl_seconds is None else request.ttl_seconds
    if not 1 <= ttl <= MAX_TTL_SECONDS:
        raise ValidationFailed(
            f"ttl_seconds must be from 1 to {MAX_TTL_SECONDS}", field="ttl_seconds"
        )
    return timedelta(seconds=ttl)


def _require_code(code: str) -> None:
    """An empty code is not an attempt; neither is text no keyboard would send as a code."""
    if not code.strip():
        raise ValidationFailed("the code is empty", field="code")
    if len(code) > MAX_SUBMITTED_CODE_LENGTH or not (code.isascii() and code.isprintable()):
        raise ValidationFailed(
            f"a code is at most {MAX_SUBMITTED_CODE_LENGTH} printable ASCII characters",
            field="code",
        )
