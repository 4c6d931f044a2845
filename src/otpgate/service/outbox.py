"""Reading the developer outbox back: the one place a message text is ever shown."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

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


class DevOutboxReader:
    def __init__(self, outbox: DevOutbox, sealer: Sealer) -> None:
        self._outbox = outbox
        self._sealer = sealer

    def read(self, app_id: str | None, to: str | None, limit: int) -> list[OutboxMessage]:
        return [
            OutboxMessage(
                id=entry.id,
                to=entry.to,
                sender=entry.sender,
                body=self._sealer.open(entry.body_sealed, entry.id),
                verification_id=entry.verification_id,
                created_at=entry.created_at,
            )
            for entry in self._outbox.read(app_id, to, limit)
        ]
