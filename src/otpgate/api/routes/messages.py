"""A verification's messages and their delivery states (never their texts)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path
from pydantic import BaseModel

from otpgate.api.auth import CredentialsDep, RuntimeDep, authenticate_app
from otpgate.service.presentation import timestamp

router = APIRouter(prefix="/v1", tags=["verifications"])


class MessageOut(BaseModel):
    id: str
    verification_id: str
    status: str  # queued, sending, sent, delivered, undelivered, failed
    provider: str | None
    provider_message_id: str | None
    attempts: int
    last_error: str | None
    created_at: str
    sent_at: str | None
    updated_at: str
    encoding: Literal["gsm7", "ucs2"] | None  # None: queued before segments were counted
    segments: int | None
    channel: Literal["sms", "call", "whatsapp"]
    delivered_at: str | None


class MessageList(BaseModel):
    messages: list[MessageOut]


@router.get("/verifications/{verification_id}/messages", response_model=MessageList)
async def list_messages(
    verification_id: Annotated[str, Path(max_length=64)],
    runtime: RuntimeDep,
    credentials: CredentialsDep,
) -> dict[str, Any]:
    def serve() -> dict[str, Any]:
        app = authenticate_app(runtime, credentials)
        return {
            "messages": [
                {
                    "id": message.id,
                    "verification_id": message.verification_id,
                    "status": message.status.value,
                    "provider": message.provider,
                    "provider_message_id": message.provider_message_id,
                    "attempts": message.attempts,
                    "last_error": message.last_error,
                    "created_at": timestamp(message.created_at),
                    "sent_at": timestamp(message.sent_at),
                    "updated_at": timestamp(message.updated_at),
                    "encoding": None if message.encoding is None else message.encoding.value,
                    "segments": message.segments,
                    "channel": message.channel.value,
                    "delivered_at": timestamp(message.delivered_at),
                }
                for message in runtime.deliveries.messages(app, verification_id)
            ]
        }

    return await runtime.run(serve)
