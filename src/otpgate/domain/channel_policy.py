"""Which channels an app may use for a number: its `channels`, and no calls to costly lines."""

from __future__ import annotations

from collections.abc import Sequence

from otpgate.domain.channels import Channel, Step
from otpgate.domain.errors import ChannelNotAllowed, LineTypeBlocked
from otpgate.domain.phone import LineType, PhoneNumber
from otpgate.domain.policy import AppSettings

# a call to these lines earns their owner money per minute: the voice-pumping fraud's target
COSTLY_FOR_CALLS = (LineType.PREMIUM_RATE, LineType.SHARED_COST)


def enforce_channel_policy(
    settings: AppSettings, steps: Sequence[Step], number: PhoneNumber, *, field: str
) -> None:
    for step in steps:
        if step.channel not in settings.channels:
            raise ChannelNotAllowed(
                f"this app does not send by {step.channel}; its channels are "
                f"{', '.join(settings.channels)}",
                field=field,
            )
        if (
            step.channel is Channel.CALL
            and number.line_type in COSTLY_FOR_CALLS
            and not settings.allow_premium_rate_calls
        ):
            raise LineTypeBlocked(f"this app does not call {number.line_type} numbers", field="to")
