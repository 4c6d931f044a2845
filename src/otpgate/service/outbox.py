"""Reading the developer outbox back: the one place a message text is ever shown."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from otpgate.domain.channels import Channel, ChannelMessage
from otpgate.service.ports import DevOutbox
from otpgate.service.sealing import Sealer


@dataclass(frozen=True)
class OutboxMessage:
    id: str
    to: str
    sender: str | None
    body: str
    verification_id: str
    created_at: datetime
    channel: Channel


class DevOutboxReader:
    """`channels`: those whose provider is the outbox on this server."""

    def __init__(self, outbox: DevOutbox, sealer: Sealer, channels: Sequence[Channel]) -> None:
        self._outbox = outbox
        self._sealer = sealer
        self._channels = tuple(channels)

    def read(self, app_id: str | None, to: str | None, limit: int) -> list[OutboxMessage]:
        return [
            OutboxMessage(
                id=entry.id,
                to=entry.to,
                sender=entry.sender,
                # a call's text as it would be spoken, a WhatsApp message's as it would read
                body=ChannelMessage.unpack(
                    entry.channel, self._sealer.open(entry.body_sealed, entry.id)
                ).body,
                verification_id=entry.verification_id,
                created_at=entry.created_at,
                channel=entry.channel,
            )
            for entry in self._outbox.read(app_id, to, limit, self._channels)
        ]
