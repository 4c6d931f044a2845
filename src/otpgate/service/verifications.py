"""Start, re-send, check, cancel and read verifications."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from functools import partial

from otpgate.domain.channel_policy import enforce_channel_policy
from otpgate.domain.channels import Channel, ChannelMessage, Step
from otpgate.domain.codes import CodeHasher, generate_code
from otpgate.domain.errors import (
    Conflict,
    ExpiryInvalid,
    IdempotencyConflict,
    NotFound,
    NotPending,
    RateLimited,
    TemplateInvalid,
    ValidationFailed,
)
from otpgate.domain.gsm import MessageSize, measure
from otpgate.domain.limits import ip_subject, longest_match
from otpgate.domain.lookups import LookupAnswer, resolved
from otpgate.domain.message_text import MessageOptions, choose_text
from otpgate.domain.phone import PhoneNumber, parse_number
from otpgate.domain.policy import (
    MAX_TTL_SECONDS,
    AppSettings,
    Narrowing,
    enforce_destination_policy,
    enforce_sender_policy,
    narrow,
)
from otpgate.domain.templates import (
    used_extra_values,
    validate_sender,
    validate_template,
)
from otpgate.domain.verification import (
    CHECK_OUTCOMES,
    CheckOutcome,
    CheckResult,
    DeliveryStatus,
    Status,
    Verification,
)
from otpgate.service.abuse import AbuseGuard
from otpgate.service.channel_messages import MessageText, queued_message
from otpgate.service.ids import new_id
from otpgate.service.ports import (
    App,
    Clock,
    IdempotentAnswer,
    ListQuery,
    Observer,
    QueuedMessage,
    RandomSource,
    Transaction,
    VerificationStore,
    WorkflowStore,
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
    # neither: the app's default workflow; a compatibility API always names SMS
    channel: Channel | None = None
    workflow: tuple[Step, ...] | None = None
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
    # the text when neither the request nor the app has one (a vendor's own default text);
    # None: otpgate's built-in text for the locale
    default_template: str | None = None
    # the person's address as the caller saw it (per-IP limits apply only when given)
    end_user_ip: str | None = None

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
        guard: AbuseGuard,
        default_sender: str | None,
        on_message_queued: Callable[[], None],
        workflows: WorkflowStore,
    ) -> None:
        self._guard = guard
        self._store = store
        self._workflows = workflows
        self._clock = clock
        self._random = random
        self._hasher = hasher
        self._sealer = sealer
        self._observer = observer
        self._default_sender = default_sender
        self._on_message_queued = on_message_queued

    def start(
        self, app: App, request: StartRequest, *, lookup: LookupAnswer | None = None
    ) -> StartResult:
        """Create a verification and queue its message, or re-send the pending one. `lookup`:
        what the network said of the number (service/lookups.py), asked before this call."""
        network = lookup.network if lookup is not None else None
        number = resolved(parse_number(request.to, request.country), network)
        _require_label(request.external_id, "external_id")
        _require_label(request.reference, "reference")
        settings = app.settings
        if request.narrowing is not None:
            settings = narrow(settings, request.narrowing)
        enforce_destination_policy(settings, number)
        steps = _steps(request, settings)
        enforce_channel_policy(
            settings, steps, number, field="workflow" if request.workflow else "channel"
        )
        sender = request.sender or settings.sender or self._default_sender
        if request.sender is not None:
            validate_sender(request.sender)
        enforce_sender_policy(settings, sender)
        chosen = choose_text(
            settings,
            locale=request.locale,
            country=number.country,
            template=None if request.template is None else validate_template(request.template),
            default_template=request.default_template,
        )
        template = chosen.template
        extra_values = used_extra_values(template, dict(request.template_values))
        lifetime = _lifetime(settings.ttl_seconds, request, self._clock.now())
        code_length = settings.code_length if request.code_length is None else request.code_length
        test_code = _test_code(settings.test_numbers, number)
        ip = None if request.end_user_ip is None else ip_subject(request.end_user_ip)
        text = MessageText(
            template, extra_values, lifetime, chosen.locale, MessageOptions.of(settings, app.name)
        )
        # a sample text of the same length tells how many SMS segments each send costs
        sample = text.render("0" * code_length, text.minutes)
        sms_step = any(step.channel is Channel.SMS for step in steps)
        size = _within_max_segments(sample, settings) if sms_step else measure(sample)
        # a call is counted per call, a WhatsApp message per message
        parts = size.segments if steps[0].channel is Channel.SMS else 1
        parts = 0 if test_code is not None else parts
        suspicious = settings.lookup_feeds_fraud_guard and lookup is not None and lookup.suspicious
        screen = self._guard.screen_send(
            app,
            number,
            parts=parts,
            now=self._clock.now(),
            suspicious=suspicious,
            channel=steps[0].channel,
        )
        attempt = 1
        while True:
            try:
                with self._store.transaction() as tx:
                    # read under the write lock: a start that waited for it must not look older
                    # than the send it waited for (the re-send cooldown compares the two)
                    now = self._clock.now()
                    # the counters count in this transaction: a refused start counts nothing
                    admit = partial(self._guard.admit_send, tx, app, number, screen, ip=ip, now=now)
                    result, replayed = self._write_start(
                        tx, app, request, number, sender, text, steps, test_code, admit, now
                    )
                    if result.created and not replayed:
                        # in the transaction: its status webhook commits with it
                        self._observer.verification_status(tx, result.verification)
                    if not replayed and test_code is None:
                        tx.after_commit(self._on_message_queued)
                break
            except WriteConflict as conflict:
                # a concurrent start committed the same number or idempotency key first; run
                # again, and its row is the pending one (or its answer is replayed), as if the
                # two had run one after the other
                if attempt == START_ATTEMPTS:
                    raise Conflict("concurrent requests for this number; try again") from conflict
                attempt += 1
            except RateLimited as refused:
                with self._store.transaction() as tx:
                    self._guard.report(tx, app, refused, self._clock.now())
                raise
        if result.verification.workflow_steps > 1:
            (shown,) = self._with_workflows([result.verification])
            result = dataclasses.replace(result, verification=shown)
        return result

    def _write_start(
        self,
        tx: Transaction,
        app: App,
        request: StartRequest,
        number: PhoneNumber,
        sender: str | None,
        text: MessageText,
        steps: tuple[Step, ...],
        test_code: str | None,
        admit: Callable[[], None],
        now: datetime,
    ) -> tuple[StartResult, bool]:
        """The start in one transaction; True with the earlier answer to a replayed key."""
        if request.idempotency_key is not None:
            earlier = self._store.find_idempotent(
                tx, app.id, request.idempotency_key, now - IDEMPOTENCY_WINDOW
            )
            if earlier is not None:
                if earlier.fingerprint != request.fingerprint():
                    raise IdempotencyConflict(
                        "this idempotency_key was used with a different request"
                    )
                return StartResult(earlier.verification, earlier.created), True
        result = self._start_or_resend(
            tx, app, request, number, sender, text, steps, test_code, admit, now
        )
        if request.alias is not None:
            self._store.add_alias(tx, app.id, request.alias.hashed(), result.verification.id, now)
        if request.idempotency_key is not None:
            self._store.remember_idempotent(
                tx,
                app.id,
                request.idempotency_key,
                IdempotentAnswer(request.fingerprint(), result.created, result.verification),
                now,
            )
        return result, False

    def _start_or_resend(
        self,
        tx: Transaction,
        app: App,
        request: StartRequest,
        number: PhoneNumber,
        sender: str | None,
        text: MessageText,
        steps: tuple[Step, ...],
        test_code: str | None,
        admit: Callable[[], None],
        now: datetime,
    ) -> StartResult:
        """Decide re-send or new verification, then count the send (`admit`), then write."""
        pending = self._store.find_pending(tx, app.id, number.e164)
        if pending is not None and pending.verification.status_at(now) is Status.PENDING:
            verification = pending.verification
            self._enforce_resend_limits(app, verification, now)
            admit()
            assert pending.code_sealed is not None, "a pending verification keeps its code"
            code = self._sealer.open(pending.code_sealed, verification.id)
            minutes = math.ceil((verification.expires_at - now).total_seconds() / 60)
            # a re-send goes by the current step's channel
            channel = Channel(verification.channel)
            message = (
                None
                if test_code is not None
                else self._message(
                    app, verification, sender, text.content(channel, code, minutes), now
                )
            )
            resent = self._store.record_resend(tx, verification.id, message, now, channel)
            return StartResult(
                resent, created=False, message_id=message.id if message is not None else None
            )
        admit()
        if pending is not None:
            self._store.expire(tx, pending.verification.id, now)
        settings = app.settings
        code_length = settings.code_length if request.code_length is None else request.code_length
        code = test_code or generate_code(code_length, settings.code_alphabet, self._random.choice)
        verification = Verification(
            id=new_id("ver", now, self._random),
            app_id=app.id,
            to=number.e164,
            channel=steps[0].channel,
            status=Status.PENDING,
            country=number.country,
            line_type=number.line_type.value,
            attempts=0,
            max_attempts=settings.max_attempts,
            sends=1,
            # a test number gets no SMS: its (fixed) code is as good as delivered
            delivery_status=DeliveryStatus.QUEUED
            if test_code is None
            else DeliveryStatus.DELIVERED,
            external_id=request.external_id,
            reference=request.reference,
            created_at=now,
            expires_at=now + text.lifetime,
            approved_at=None,
            last_sent_at=now,
            locale=text.locale,
            # a test number gets no message on any channel: one step, as good as delivered
            workflow_steps=len(steps) if test_code is None else 1,
        )
        message = (
            None
            if test_code is not None
            else self._message(
                app, verification, sender, text.content(steps[0].channel, code, text.minutes), now
            )
        )
        self._store.insert(
            tx,
            verification,
            self._hasher.hash(verification.id, code),
            self._sealer.seal(code, verification.id),
            message,
        )
        if message is not None and len(steps) > 1:
            self._workflows.insert_steps(tx, verification.id, steps, message.id, now)
        return StartResult(
            verification, created=True, message_id=message.id if message is not None else None
        )

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
        content: ChannelMessage,
        now: datetime,
    ) -> QueuedMessage:
        return queued_message(
            app_id=app.id,
            verification_id=verification.id,
            to=verification.to,
            sender=sender,
            content=content,
            sealer=self._sealer,
            random=self._random,
            now=now,
        )

    def check(
        self,
        app: App,
        verification_id: str,
        code: str,
        *,
        end_user_ip: str | None = None,
        key_id: str | None = None,
    ) -> CheckResult:
        """Count one attempt; a wrong code is an outcome, a final verification a refusal.
        With `key_id`, the attempt counts only while that key is live (`AppService.recognize`):
        a refusal then needs a full authentication before it is answered."""
        _require_code(code)
        now = self._clock.now()
        if end_user_ip is not None:
            # a transaction of its own: a check refused for its IP still counts against it
            with self._store.transaction() as tx:
                self._guard.admit_check(tx, app, ip_subject(end_user_ip), now)
        code_hashes = self._hasher.live_hashes(verification_id, code)
        # one transaction: a wrong code and the number's failure budget are counted with one
        # commit, not two
        with self._store.transaction() as tx:
            updated = self._store.check(
                tx, app.id, verification_id, code_hashes, now, key_id=key_id
            )
            outcome = None if updated is None else CHECK_OUTCOMES[updated.status]
            if (
                updated is not None
                and outcome in (CheckOutcome.WRONG_CODE, CheckOutcome.LOCKED)
                and self._guard.failure_budget_spent(tx, app, updated.to, now)
            ):
                # new verifications for the number are refused until the budget's day is
                # over; this one may not take the guesses that are left either
                updated = self._store.lock(tx, app.id, updated.id, now) or updated
                outcome = CHECK_OUTCOMES[updated.status]
            if updated is not None and updated.status is not Status.PENDING:
                self._observer.verification_status(tx, updated)  # its webhook commits with it
        if updated is None or outcome is None:
            current = self.get(app, verification_id)
            raise NotPending(f"the verification is {current.status}", status=current.status)
        result = CheckResult(updated, outcome)
        self._observer.check_outcome(result.outcome)
        return result

    def check_by_number(
        self,
        app: App,
        to: str,
        country: str | None,
        code: str,
        *,
        external_id: str | None = None,
        end_user_ip: str | None = None,
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
        return self.check(app, verification_id, code, end_user_ip=end_user_ip)

    def new_alias(self, vendor: str, length: int = 32) -> VendorAlias:
        """A random name for a verification that a vendor's client will present as a credential."""
        token = "".join(self._random.choice(ALIAS_TOKEN_SYMBOLS) for _ in range(length))
        return VendorAlias(vendor, token)

    def find_alias(self, alias: VendorAlias) -> tuple[str, str] | None:
        """The (app id, verification id) a vendor's name stands for."""
        return self._store.find_alias(alias.hashed())

    def cancel(self, app: App, verification_id: str) -> Verification:
        now = self._clock.now()
        with self._store.transaction() as tx:
            canceled = self._store.cancel(tx, app.id, verification_id, now)
            if canceled is not None:
                self._observer.verification_status(tx, canceled)  # its webhook commits with it
        if canceled is None:
            current = self.get(app, verification_id)
            raise NotPending(f"the verification is {current.status}", status=current.status)
        return self._with_workflows([canceled])[0]

    def get(self, app: App, verification_id: str) -> Verification:
        verification = self._store.get(app.id, verification_id)
        if verification is None:
            raise NotFound("no such verification")
        return self._with_workflows([verification.seen_at(self._clock.now())])[0]

    def list(self, app: App, query: ListQuery) -> list[Verification]:
        now = self._clock.now()
        return with_workflows(
            self._workflows, [v.seen_at(now) for v in self._store.list(app.id, query, now)]
        )

    def _with_workflows(self, found: Sequence[Verification]) -> Sequence[Verification]:
        return with_workflows(self._workflows, found)


def with_workflows(workflows: WorkflowStore, found: Sequence[Verification]) -> list[Verification]:
    """With the steps of those whose workflow has several (one query for all of them)."""
    several = [v.id for v in found if v.workflow_steps > 1]
    if not several:
        return list(found)
    states = workflows.states_of(several)
    return [dataclasses.replace(v, workflow=states[v.id]) if v.id in states else v for v in found]


def _steps(request: StartRequest, settings: AppSettings) -> tuple[Step, ...]:
    """The request's workflow or channel, else the app's workflow, else one SMS step."""
    if request.workflow is not None:
        return request.workflow
    if request.channel is not None:
        return (Step(request.channel),)
    return settings.workflow or (Step(Channel.SMS),)


def _require_label(value: str | None, field: str) -> None:
    """Labels are stored and shown back: short printable text (the native API checks the same)."""
    if value is not None and (len(value) > MAX_LABEL_LENGTH or _UNSTORABLE.search(value)):
        raise ValidationFailed(
            f"{field} is at most {MAX_LABEL_LENGTH} characters of text", field=field
        )


def _within_max_segments(sample: str, settings: AppSettings) -> MessageSize:
    size = measure(sample)
    if size.segments > settings.max_segments:
        raise TemplateInvalid(
            f"the message needs {size.segments} SMS segments, more than the app's "
            f"max_segments ({settings.max_segments})",
            field="template",
        )
    return size


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


def _test_code(test_numbers: Mapping[str, str], number: PhoneNumber) -> str | None:
    """The fixed code of the app's test number (or prefix) this number falls under."""
    match = longest_match(number.e164, test_numbers) if test_numbers else None
    return None if match is None else test_numbers[match]


def _require_code(code: str) -> None:
    """An empty code is not an attempt; neither is text no keyboard would send as a code."""
    if not code.strip():
        raise ValidationFailed("the code is empty", field="code")
    if len(code) > MAX_SUBMITTED_CODE_LENGTH or not (code.isascii() and code.isprintable()):
        raise ValidationFailed(
            f"a code is at most {MAX_SUBMITTED_CODE_LENGTH} printable ASCII characters",
            field="code",
        )
