"""What one message of a verification says on its channel, and the queued message that
carries it (sealed): an SMS text, a call's speech, a WhatsApp message's code and text."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from otpgate.domain.channels import Channel, ChannelMessage, spoken_code, spoken_twice
from otpgate.domain.gsm import measure
from otpgate.domain.locales import with_region
from otpgate.domain.message_text import MessageOptions, compose
from otpgate.service.ids import new_id
from otpgate.service.ports import QueuedMessage, RandomSource
from otpgate.service.sealing import Sealer


@dataclass(frozen=True)
class MessageText:
    """What a verification's messages are made of, besides their code."""

    template: str
    extra_values: dict[str, str]
    lifetime: timedelta
    locale: str
    options: MessageOptions

    @property
    def minutes(self) -> int:
        return math.ceil(self.lifetime.total_seconds() / 60)

    def render(self, code: str, minutes: int) -> str:
        values = {**self.extra_values, "minutes": str(minutes)}
        return compose(self.template, values, self.options, code)

    def content(self, channel: Channel, code: str, minutes: int) -> ChannelMessage:
        if channel is Channel.SMS:
            return ChannelMessage(channel, self.render(code, minutes))
        # a call or WhatsApp message has no SMS to fill in from: no app hash, no origin line
        plain = dataclasses.replace(
            self.options, webotp_domain=None, webotp_embedded_domain=None, android_app_hash=None
        )
        values = {**self.extra_values, "minutes": str(minutes)}
        if channel is Channel.CALL:
            speech = compose(self.template, values, plain, spoken_code(code))
            return ChannelMessage(channel, spoken_twice(speech), language=with_region(self.locale))
        return ChannelMessage(
            channel, compose(self.template, values, plain, code), language=self.locale, code=code
        )


def queued_message(
    *,
    app_id: str,
    verification_id: str,
    to: str,
    sender: str | None,
    content: ChannelMessage,
    sealer: Sealer,
    random: RandomSource,
    now: datetime,
) -> QueuedMessage:
    message_id = new_id("msg", now, random)
    # only an SMS has an encoding and segments; a call or WhatsApp message is one of its kind
    size = measure(content.body) if content.channel is Channel.SMS else None
    return QueuedMessage(
        id=message_id,
        app_id=app_id,
        verification_id=verification_id,
        to=to,
        sender=sender,
        body_sealed=sealer.seal(content.pack(), message_id),
        attempts=0,
        created_at=now,
        encoding=None if size is None else size.encoding,
        segments=None if size is None else size.segments,
        channel=content.channel,
    )
