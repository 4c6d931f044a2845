"""Receipt routes: providers report what became of a message. No app key: each provider's
own signature (or the gateway's token) is checked by its reader."""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import PlainTextResponse

from otpgate.api.auth import RuntimeDep
from otpgate.api.schemas import holds_lone_surrogate
from otpgate.domain.errors import ValidationFailed
from otpgate.service.ports import ReceiptRequest

router = APIRouter(prefix="/v1", tags=["delivery receipts"])

Provider = Annotated[str, Path(max_length=20, pattern=r"^[a-z0-9_]+$")]


_RECEIPT_ROUTE: dict[str, Any] = {
    "status_code": 204,
    "response_class": Response,
    "responses": {
        400: {"description": "a body that is not valid Unicode"},
        403: {"description": "bad signature"},
        404: {"description": "unknown provider, or its receipts are turned off"},
    },
}


@router.get(
    "/receipts/{provider}",
    operation_id="receive_receipt_by_get",
    **{
        **_RECEIPT_ROUTE,
        "responses": {
            **_RECEIPT_ROUTE["responses"],
            200: {
                "description": "a provider's subscription handshake (Meta's `hub.challenge`), "
                "answered with its challenge",
                "content": {"text/plain": {"schema": {"type": "string"}}},
            },
        },
    },
)
@router.post("/receipts/{provider}", operation_id="receive_receipt_by_post", **_RECEIPT_ROUTE)
async def receive_receipt(provider: Provider, request: Request, runtime: RuntimeDep) -> Response:
    body = await request.body()
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    form: dict[str, str] = {}
    document: Any = None
    if content_type == "application/x-www-form-urlencoded":
        form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    elif body and (content_type == "application/json" or content_type.endswith("+json")):
        try:
            document = json.loads(body)
        except (ValueError, RecursionError):  # nested past the parser's depth: unreadable too
            document = None
        if holds_lone_surrogate(document):
            # no signature, log line or database takes text that is not Unicode
            raise ValidationFailed("the body must be valid Unicode (no lone surrogates)")
    public_url = runtime.settings.public_url
    # providers sign the URL they were given, which is the public one behind any proxy
    url = (
        public_url.rstrip("/")
        + request.url.path
        + (f"?{request.url.query}" if request.url.query else "")
        if public_url
        else str(request.url)
    )
    receipt_request = ReceiptRequest(
        method=request.method,
        url=url,
        headers={key.lower(): value for key, value in request.headers.items()},
        query=dict(request.query_params),
        form=form,
        json=document,
        body=body,
    )
    if request.method == "GET":
        challenge = runtime.receipts.challenge(provider, receipt_request)
        if challenge is not None:
            return PlainTextResponse(challenge)
    await runtime.run(lambda: runtime.receipts.accept(provider, receipt_request))
    return Response(status_code=204)
