"""How a verification is shown outside otpgate: the one document the native API answers and
the status webhooks send (never its code), and the one spelling of a moment in both."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from otpgate.domain.channels import StepStatus, step_status
from otpgate.domain.lookups import LookupAnswer
from otpgate.domain.verification import CheckResult, Status, Verification


def timestamp(value: datetime | None) -> str | None:
    """UTC RFC 3339 with a Z, to the millisecond."""
    if value is None:
        return None
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def verification_document(verification: Verification) -> dict[str, Any]:
    """The verification as JSON; the API's `VerificationOut` model describes this shape."""
    return {
        "id": verification.id,
        "to": verification.to,
        "channel": verification.channel,
        "status": verification.status.value,
        "country": verification.country,
        "line_type": verification.line_type,
        "attempts": verification.attempts,
        "max_attempts": verification.max_attempts,
        "sends": verification.sends,
        "delivery_status": verification.delivery_status.value,
        "external_id": verification.external_id,
        "reference": verification.reference,
        "created_at": timestamp(verification.created_at),
        "expires_at": timestamp(verification.expires_at),
        "approved_at": timestamp(verification.approved_at),
        "locale": verification.locale,
        "workflow": workflow_document(verification),
    }


def workflow_document(verification: Verification) -> list[dict[str, Any]] | None:
    """Its steps; None for a workflow of several steps read without them (a webhook's)."""
    if verification.workflow:
        # a step still waiting when the verification ended will never go out
        ended = verification.status is not Status.PENDING
        return [
            {
                "channel": step.channel.value,
                "status": StepStatus.SKIPPED.value
                if ended and step.status is StepStatus.WAITING
                else step.status.value,
                "sent_at": timestamp(step.sent_at),
            }
            for step in verification.workflow
        ]
    if verification.workflow_steps > 1:
        return None
    # one step: the verification's own channel, as far as its newest message got
    status = step_status(StepStatus.SENT, verification.delivery_status)
    return [
        {
            "channel": verification.channel,
            "status": status.value,
            "sent_at": timestamp(verification.created_at),
        }
    ]


def check_document(result: CheckResult) -> dict[str, Any]:
    """A check's outcome as JSON; the API's `CheckOut` model describes this shape."""
    return {
        "id": result.verification.id,
        "status": result.verification.status.value,
        "valid": result.valid,
        "attempts_left": result.verification.attempts_left,
    }


def lookup_document(answer: LookupAnswer, now: datetime) -> dict[str, Any]:
    """A lookup as the API (and the CLI's --json) shows it; the API's `LookupOut` describes it."""
    number, network = answer.number, answer.network
    carrier = None if network is None else network.carrier
    return {
        "number": number.e164,
        "valid": number.valid,
        "country": number.country,
        "line_type": number.line_type.value,
        "national_format": number.national_format,
        "source": answer.source.value,
        "carrier": None if carrier is None else dataclasses.asdict(carrier),
        "reachable": answer.reachable,
        "checked_at": timestamp(now if network is None else network.checked_at),
    }
