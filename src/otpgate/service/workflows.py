"""Workflows: a verification's next step goes out when the one before it waited its timeout
without an approval, at once when that step's message failed, or when its app asks."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime

from otpgate.domain.errors import FraudBlocked, NoNextStep, NotFound, NotPending, RateLimited
from otpgate.domain.message_text import MessageOptions, choose_text
from otpgate.domain.phone import parse_number
from otpgate.domain.verification import Status, Verification
from otpgate.service.abuse import AbuseGuard
from otpgate.service.app_directory import AppDirectory
from otpgate.service.channel_messages import MessageText, queued_message
from otpgate.service.ports import (
    App,
    Clock,
    DueStep,
    RandomSource,
    Transaction,
    Transactions,
    VerificationStore,
    WorkflowStore,
)
from otpgate.service.sealing import Sealer
from otpgate.service.verifications import with_workflows

STEPS_PER_ROUND = 64


class WorkflowService:
    def __init__(
        self,
        steps: WorkflowStore,
        verifications: VerificationStore,
        transactions: Transactions,
        apps: AppDirectory,
        clock: Clock,
        random: RandomSource,
        sealer: Sealer,
        guard: AbuseGuard,
        default_sender: str | None,
        on_message_queued: Callable[[], None],
    ) -> None:
        self._steps = steps
        self._verifications = verifications
        self._transactions = transactions
        self._apps = apps
        self._clock = clock
        self._random = random
        self._sealer = sealer
        self._guard = guard
        self._default_sender = default_sender
        self._on_message_queued = on_message_queued

    def send_due(self, limit: int = STEPS_PER_ROUND) -> int:
        """Send the steps that are due (the delivery worker's, on any node); how many were
        claimed. One transaction: a step's message is queued with the step marked sent."""
        with self._transactions() as tx:
            now = self._clock.now()
            due = self._steps.claim_due(tx, now, limit)
            for step in due:
                self._send(tx, step, now)
        return len(due)

    def send_next(self, app: App, verification_id: str) -> Verification:
        """`POST /v1/verifications/{id}/next`: the next step, now."""
        with self._transactions() as tx:
            now = self._clock.now()
            found = self._steps.next_waiting(tx, app.id, verification_id)
            if found is None:
                raise NotFound("no such verification")
            verification, step = found
            status = verification.status_at(now)
            if status is not Status.PENDING:
                raise NotPending(f"the verification is {status}", status=status)
            if step is None:
                raise NoNextStep("the verification's workflow has no step left to send")
            self._send(tx, step, now)
            sent = self._verifications.get(app.id, verification_id, tx)
        assert sent is not None
        return with_workflows(self._steps, [sent])[0]

    def _send(self, tx: Transaction, step: DueStep, now: datetime) -> None:
        verification = step.verification
        app = self._apps.app(verification.app_id, tx)
        if (
            app is None
            or verification.status_at(now) is not Status.PENDING
            or step.code_sealed is None
        ):
            # approved, canceled, locked or expired meanwhile: nothing more goes out
            self._steps.skip_waiting(tx, verification.id)
            return
        try:
            number = parse_number(verification.to)
            self._guard.admit_step(tx, app, number, step.channel.value, now)
        except (RateLimited, FraudBlocked):
            # this step is not sent, the next one (if any) may be
            self._steps.skip(tx, step, now)
            return
        code = self._sealer.open(step.code_sealed, verification.id)
        minutes = math.ceil((verification.expires_at - now).total_seconds() / 60)
        content = _text_of(app, verification).content(step.channel, code, minutes)
        message = queued_message(
            app_id=app.id,
            verification_id=verification.id,
            to=verification.to,
            sender=app.settings.sender or self._default_sender,
            content=content,
            sealer=self._sealer,
            random=self._random,
            now=now,
        )
        self._verifications.record_resend(tx, verification.id, message, now, step.channel)
        self._steps.mark_sent(tx, step, message.id, now)
        tx.after_commit(self._on_message_queued)


def _text_of(app: App, verification: Verification) -> MessageText:
    """A later step says the app's text for the verification's locale (a start's own
    `template` was for its first step's message: docs/channels.md)."""
    settings = app.settings
    chosen = choose_text(settings, locale=verification.locale, country=verification.country)
    return MessageText(
        chosen.template,
        {},
        verification.expires_at - verification.created_at,
        chosen.locale,
        MessageOptions.of(settings, app.name),
    )
