"""The developer outbox: messages the built-in `outbox` provider kept instead of sending."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, TypeAdapter
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from otpgate.api.auth import authenticate_app, credentials_in, runtime_in
from otpgate.api.plain import Operation, query_value
from otpgate.api.query import query_number
from otpgate.api.schemas import OutboxOut
from otpgate.domain.errors import NotFound
from otpgate.domain.phone import parse_number
from otpgate.service.presentation import timestamp

TO = TypeAdapter(Annotated[str | None, Field(max_length=64)])
LIMIT = TypeAdapter(Annotated[int, Field(ge=1, le=100)])

# a plain Starlette endpoint (api/plain.py): a client polling it for a code reads it per flow
READ = Operation(
    method="GET",
    path="/v1/dev/outbox",
    operation_id="read_outbox_v1_dev_outbox_get",
    summary="Read Outbox",
    tags=("developer outbox",),
    body=None,
    responses={
        200: (OutboxOut, "the newest messages first, texts and codes included"),
        404: (None, "`not_found`: no channel's provider is the developer outbox"),
    },
    query_parameters={
        "to": ("only the messages to this number (E.164; `+` as %2B)", TO),
        "limit": ("at most this many messages (1 to 100, default 20)", LIMIT),
    },
)


async def read_outbox(request: Request) -> Response:
    runtime, credentials = runtime_in(request), credentials_in(request)
    to = query_value(request, "to", TO, None)
    limit = query_value(request, "limit", LIMIT, 20)

    def read() -> dict[str, Any]:
        app = authenticate_app(runtime, credentials)
        if runtime.outbox is None:
            raise NotFound("the developer outbox exists only with the outbox provider")
        number = parse_number(query_number(to)).e164 if to is not None else None
        return {
            "messages": [
                {
                    "id": message.id,
                    "to": message.to,
                    "channel": message.channel.value,
                    "sender": message.sender,
                    "body": message.body,
                    "verification_id": message.verification_id,
                    "created_at": timestamp(message.created_at),
                }
                for message in runtime.outbox.read(app.id, number, limit)
            ]
        }

    return JSONResponse(await runtime.run(read))


PLAIN_OPERATIONS = [READ]
plain_routes = [READ.route(read_outbox)]
