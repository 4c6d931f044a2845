"""The channels a code travels by (SMS, voice call, WhatsApp), workflows of them, and what
each channel's message carries."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from otpgate.domain.errors import ValidationFailed
from otpgate.domain.verification import DeliveryStatus

MAX_STEPS = 3
MIN_STEP_TIMEOUT = 15
MAX_STEP_TIMEOUT = 900
DEFAULT_STEP_TIMEOUT = 120


class Channel(StrEnum):
    SMS = "sms"
    CALL = "call"
    WHATSAPP = "whatsapp"


@dataclass(frozen=True)
class Step:
    """One step of a workflow: its channel, and how long it waits for an approval before the
    next step goes out."""

    channel: Channel
    timeout_seconds: int = DEFAULT_STEP_TIMEOUT


class StepStatus(StrEnum):
    WAITING = "waiting"
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class StepState:
    """A step as a verification shows it."""

    channel: Channel
    status: StepStatus
    sent_at: datetime | None


def parse_workflow(value: object, *, field: str) -> tuple[Step, ...]:
    """1 to 3 steps of {"channel", "timeout_seconds"?}; `field` names the input in a refusal."""
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_STEPS:
        raise ValidationFailed(f"{field} must be a list of 1 to {MAX_STEPS} steps", field=field)
    return tuple(_step(item, f"{field}[{i}]") for i, item in enumerate(value))


def _step(value: object, field: str) -> Step:
    if not isinstance(value, dict) or not set(value) <= {"channel", "timeout_seconds"}:
        raise ValidationFailed(
            'a step is {"channel": "sms" | "call" | "whatsapp", "timeout_seconds": 15 to 900}',
            field=field,
        )
    channel = value.get("channel")
    if channel not in {c.value for c in Channel}:
        raise ValidationFailed("channel must be sms, call or whatsapp", field=f"{field}.channel")
    timeout = value.get("timeout_seconds", DEFAULT_STEP_TIMEOUT)
    if (
        not isinstance(timeout, int)
        or isinstance(timeout, bool)
        or not MIN_STEP_TIMEOUT <= timeout <= MAX_STEP_TIMEOUT
    ):
        raise ValidationFailed(
            f"timeout_seconds must be an integer from {MIN_STEP_TIMEOUT} to {MAX_STEP_TIMEOUT}",
            field=f"{field}.timeout_seconds",
        )
    return Step(Channel(str(channel)), timeout)


def workflow_mapping(steps: Sequence[Step]) -> list[dict[str, object]]:
    return [{"channel": s.channel.value, "timeout_seconds": s.timeout_seconds} for s in steps]


_STEP_STATUS_OF_MESSAGE = {
    DeliveryStatus.QUEUED: StepStatus.SENT,
    DeliveryStatus.SENDING: StepStatus.SENT,
    DeliveryStatus.SENT: StepStatus.SENT,
    DeliveryStatus.DELIVERED: StepStatus.DELIVERED,
    DeliveryStatus.UNDELIVERED: StepStatus.FAILED,
    DeliveryStatus.FAILED: StepStatus.FAILED,
}


def step_status(stored: StepStatus, message_status: DeliveryStatus | None) -> StepStatus:
    """A step that went out is as far as its message got; waiting and skipped are stored."""
    if stored is StepStatus.SENT and message_status is not None:
        return _STEP_STATUS_OF_MESSAGE[message_status]
    return stored


def spoken_code(code: str) -> str:
    """The code as a voice reads it: one character at a time, with a pause between."""
    return ", ".join(code.upper())


def spoken_twice(text: str) -> str:
    return f"{text} {text}"


@dataclass(frozen=True)
class ChannelMessage:
    """What a message's sealed text holds: an SMS its text; a call the speech and its
    language; a WhatsApp message the code for the provider's template, its language and the
    text the outbox shows."""

    channel: Channel
    body: str  # the SMS text, the speech, or the WhatsApp text as the outbox shows it
    language: str | None = None
    code: str | None = None

    def pack(self) -> str:
        if self.channel is Channel.SMS:
            return self.body  # as SMS messages were always sealed
        return json.dumps({"body": self.body, "language": self.language, "code": self.code})

    @classmethod
    def unpack(cls, channel: Channel, text: str) -> ChannelMessage:
        if channel is Channel.SMS:
            return cls(channel, text)
        fields = json.loads(text)
        return cls(channel, fields["body"], fields["language"], fields["code"])
