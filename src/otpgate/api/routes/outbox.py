"""The developer outbox: messages the built-in `outbox` provider kept instead of sending."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from otpgate.api.auth import CredentialsDep, RuntimeDep, authenticate_app
from otpgate.api.query import query_number
from otpgate.api.schemas import OutboxOut
from otpgate.domain.errors import NotFound
from otpgate.domain.phone import parse_number
from otpgate.service.presentation import timestamp

router = APIRouter(prefix="/v1", tags=["developer outbox"])


@router.get("/dev/outbox", response_model=OutboxOut)
async def read_outbox(
    runtime: RuntimeDep,
    credentials: CredentialsDep,
    to: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> dict[str, Any]:
    def serve() -> dict[str, Any]:
        app = authenticate_app(runtime, credentials)
        if runtime.outbox is None:
            raise NotFound("the developer outbox exists only with the outbox SMS provider")
        number = parse_number(query_number(to)).e164 if to is not None else None
        return {
            "messages": [
                {
                    "id": message.id,
                    "to": message.to,
                    "sender": message.sender,
                    "body": message.body,
                    "verification_id": message.verification_id,
                    "created_at": timestamp(message.created_at),
                }
                for message in runtime.outbox.read(app.id, number, limit)
            ]
        }

    return await runtime.run(serve)
