"""SessionM's SMS Validation API (opt-in request and confirmation) over the opt-in service."""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from otpgate.api.auth import RuntimeDep
from otpgate.compat.bodies import (
    FieldMissing,
    Fields,
    FieldUnreadable,
    UnreadableBody,
    read_fields,
    required_text,
    text_field,
)
from otpgate.compat.credentials import basic_credentials
from otpgate.compat.routing import ALL_METHODS, VendorApi, template_pattern
from otpgate.domain import errors
from otpgate.domain.channels import Channel
from otpgate.domain.templates import CODE_PLACEHOLDER
from otpgate.domain.verification import CheckOutcome
from otpgate.runtime import Runtime
from otpgate.service.ports import App
from otpgate.service.verifications import StartRequest

SOURCE = "sessionm"
DEFAULT_MESSAGE_TEXT = "Validation Code: "
_BASE = "/priv/v1/apps/{api_key}/messaging_events/sms/validation"
REQUEST_PATH = _BASE + "/request"
CONFIRMATION_PATHS = (_BASE + "/confirmation", _BASE + "/confirm")
_ANY_PATH = "/priv/v1/{rest:path}"
_KNOWN_PATHS = re.compile(
    r"^/priv/v1/apps/[^/]+/messaging_events/sms/validation/(request|confirmation|confirm)$"
)
# field lengths as the native API allows them
_MAX_EXTERNAL_ID = 128
_MAX_NUMBER = 64
_MAX_CODE = 64
_MAX_MESSAGE_TEXT = 2000

router = APIRouter(include_in_schema=False)


class RequestRefused(Exception):
    """A refusal before any field is read: an unknown path, a wrong method, a large body."""

    def __init__(self, status: int) -> None:
        super().__init__(str(status))
        self.field = str(status)


def _bad_request(message: str) -> dict[str, Any]:
    return {"status": "Bad Request", "message": message}


def _error(code: str) -> dict[str, Any]:
    return {"status": "error", "errors": {"code": code}}


_INVALID_CODE = _bad_request("Invalid validation code")
_INVALID_NUMBER = _bad_request("Invalid phone number")

# Every refusal: (error class, its field or None for any, HTTP status, body). The first row
# the error matches decides, so specific rows come first.
REFUSALS: tuple[tuple[type[Exception], str | None, int, dict[str, Any]], ...] = (
    (errors.Unauthorized, None, 401, _error("invalid_api_key")),
    (FieldMissing, "external_id", 400, _bad_request("required parameter external_id missing")),
    (
        FieldMissing,
        "to_phone_number",
        400,
        _bad_request("required parameter to_phone_number missing"),
    ),
    (
        FieldMissing,
        "validation_code",
        400,
        _bad_request("required parameter validation_code missing"),
    ),
    (FieldUnreadable, "to_phone_number", 400, _INVALID_NUMBER),
    (FieldUnreadable, "validation_code", 400, _INVALID_CODE),
    (FieldUnreadable, "external_id", 400, _bad_request("invalid parameter external_id")),
    (FieldUnreadable, "message_text", 400, _bad_request("invalid parameter message_text")),
    (UnreadableBody, None, 400, _bad_request("malformed request body")),
    (
        errors.OptInCampaignMissing,
        None,
        400,
        _bad_request("no global SMS campaign with opt-in keyword YES"),
    ),
    (errors.PhoneNumberInvalid, None, 400, _INVALID_NUMBER),
    # the vendor has one answer for numbers; a number the app may not send to is one of them
    (errors.CountryBlocked, None, 400, _INVALID_NUMBER),
    (errors.LineTypeBlocked, None, 400, _INVALID_NUMBER),
    (errors.TemplateInvalid, None, 400, _bad_request("invalid parameter message_text")),
    (errors.ValidationFailed, "code", 400, _INVALID_CODE),
    (errors.NotFound, None, 400, _INVALID_CODE),
    (errors.NotPending, None, 400, _INVALID_CODE),
    # the vendor answers every refusal as a 400 with a message; Retry-After says when to retry
    (errors.RateLimited, None, 400, _bad_request("rate limit exceeded; retry later")),
    (errors.FraudBlocked, None, 400, _bad_request("sends to this number are blocked for now")),
    (RequestRefused, "404", 404, _error("not_found")),
    (RequestRefused, "405", 405, _error("method_not_allowed")),
    (RequestRefused, "413", 413, _error("payload_too_large")),
    (RequestRefused, "429", 400, _bad_request("rate limit exceeded; retry later")),
    (errors.OtpgateError, None, 400, _error("bad_request")),
)

# What a confirmation's check means to the client: only a right code is "ok".
CONFIRMATIONS: dict[CheckOutcome, tuple[int, dict[str, Any]]] = {
    CheckOutcome.APPROVED: (200, {"status": "ok"}),
    CheckOutcome.WRONG_CODE: (400, _INVALID_CODE),
    CheckOutcome.LOCKED: (400, _INVALID_CODE),
    CheckOutcome.EXPIRED: (400, _INVALID_CODE),
}

_REFUSABLE = (errors.OtpgateError, RequestRefused)


def refusal_for(error: Exception) -> JSONResponse:
    field = getattr(error, "field", None)
    for error_class, row_field, status, body in REFUSALS:
        if isinstance(error, error_class) and row_field in (None, field):
            headers = None
            if isinstance(error, (errors.RateLimited, errors.FraudBlocked)):
                headers = {"Retry-After": str(error.retry_after)}
            return JSONResponse(body, status_code=status, headers=headers)
    raise AssertionError("the last row matches every refusal")  # pragma: no cover


def refusal(status: int, _detail: str) -> JSONResponse:
    return refusal_for(RequestRefused(status))


@dataclass(frozen=True)
class ValidationRequest:
    """What both routes read first: the app, the opt-in's external id and number, the body."""

    app: App
    external_id: str
    to: str
    fields: Fields


@router.post(REQUEST_PATH)
async def validation_request(api_key: str, request: Request, runtime: RuntimeDep) -> JSONResponse:
    try:
        read = await _read(runtime, api_key, request)
        prefix = text_field(read.fields, "message_text", max_length=_MAX_MESSAGE_TEXT)
        start = StartRequest(
            to=read.to,
            channel=Channel.SMS,  # the vendor's API sends SMS only
            external_id=read.external_id,
            template=(prefix or DEFAULT_MESSAGE_TEXT) + CODE_PLACEHOLDER,
        )
        # the network is asked here, on the event loop, before the start's call to the executor
        lookup = await runtime.lookups.for_start(read.app, start)
        await runtime.run(lambda: runtime.opt_ins.start(read.app, start, lookup=lookup))
    except _REFUSABLE as exc:
        return refusal_for(exc)
    return JSONResponse({"status": "ok"})


@router.post(CONFIRMATION_PATHS[0])
@router.post(CONFIRMATION_PATHS[1])
async def validation_confirmation(
    api_key: str, request: Request, runtime: RuntimeDep
) -> JSONResponse:
    try:
        read = await _read(runtime, api_key, request)
        code = required_text(read.fields, "validation_code", max_length=_MAX_CODE)
        result = await runtime.run(
            lambda: runtime.opt_ins.confirm(
                read.app, read.external_id, read.to, code, source=SOURCE
            )
        )
    except _REFUSABLE as exc:
        return refusal_for(exc)
    status, body = CONFIRMATIONS[result.outcome]
    return JSONResponse(body, status_code=status)


@router.api_route(_ANY_PATH, methods=ALL_METHODS)
async def unknown_route(request: Request) -> JSONResponse:
    known = _KNOWN_PATHS.match(request.url.path)
    return refusal_for(RequestRefused(405 if known else 404))


async def _read(runtime: Runtime, api_key: str, request: Request) -> ValidationRequest:
    app = await runtime.run(lambda: _authenticate(runtime, api_key, request))
    fields = await read_fields(request, lenient=True)
    external_id = required_text(fields, "external_id", max_length=_MAX_EXTERNAL_ID)
    to = required_text(fields, "to_phone_number", max_length=_MAX_NUMBER)
    return ValidationRequest(app, external_id, _international(to), fields)


def _authenticate(runtime: Runtime, api_key: str, request: Request) -> App:
    """Basic `api_key:api_secret`, and the key in the path must be the same key."""
    user, secret = basic_credentials(request) or ("", "")
    app = runtime.apps.authenticate(user, secret)  # the same work for any refusal
    if not hmac.compare_digest(user.encode(errors="replace"), api_key.encode(errors="replace")):
        raise errors.Unauthorized("the api_key in the path is not the Basic user")
    return app


def _international(number: str) -> str:
    """SessionM numbers are international digits (13139711649) or E.164."""
    number = number.strip()
    return number if number.startswith("+") else "+" + number


API = VendorApi(
    router=router,
    templates=(REQUEST_PATH, *CONFIRMATION_PATHS, _ANY_PATH),
    refusals=lambda _runtime: [(template_pattern(_ANY_PATH), refusal)],
)
