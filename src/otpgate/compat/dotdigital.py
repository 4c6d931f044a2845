"""dotdigital (Comapi) CPaaS Verify: send a code and validate it, over the verification service."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from otpgate.api.auth import RuntimeDep
from otpgate.api.schemas import timestamp
from otpgate.compat.credentials import basic_credentials, header_credentials
from otpgate.compat.requests import (
    BodyUnreadable,
    FieldMissing,
    Fields,
    FieldUnreadable,
    read_fields,
    required_text,
    text_field,
)
from otpgate.compat.routing import ALL_METHODS, VendorApi
from otpgate.domain import errors
from otpgate.domain.phone import LineType, lookup_number, normalize_country
from otpgate.domain.verification import CheckOutcome
from otpgate.runtime import Runtime
from otpgate.service.ports import App
from otpgate.service.verifications import StartRequest, VendorAlias

VENDOR = "dotdigital"
VALID_UNTIL_WITHIN_SECONDS = 30 * 60  # compat.md: validUntil at most 30 minutes ahead
UNAUTHORIZED_TEXT = "No authorization header supplied or invalid username or password"
SEND_PATHS = ("/webapi/verify", "/webapi/verify/sendcode")
VALIDATE_PATH = "/webapi/verify/{request_id}/validate"
_ANY_PATH = "/webapi/{rest:path}"
_KNOWN_PATHS = re.compile(r"^/webapi/verify(/sendcode|/[^/]+/validate)?$")
# the vendor's placeholders in the service's spelling
_PLACEHOLDERS = {"{{code}}": "{code}", "{{validMinutes}}": "{minutes}"}
_PLACEHOLDER = re.compile("|".join(re.escape(name) for name in _PLACEHOLDERS))
_MAX_NUMBER = 64
_MAX_CODE = 64
_MAX_TEXT = 64 * 1024  # the body limit: lengths of `from` and `body` are the service's rules

router = APIRouter(include_in_schema=False)


class RequestRefused(Exception):
    """A refusal before any field is read: an unknown path, a wrong method, a large body."""

    def __init__(self, status: int) -> None:
        super().__init__(str(status))
        self.field = str(status)


# Every 400 failure: (error class, its reason or field, or None for any) -> (property,
# failureCode). The first row the error matches decides, so specific rows come first.
FAILURES: tuple[tuple[type[Exception], str | None, str, str], ...] = (
    (BodyUnreadable, None, "", "InvalidJson"),
    (FieldMissing, "to", "to", "ToEmpty"),
    (FieldUnreadable, "to", "to", "ToInvalid"),
    (errors.PhoneNumberInvalid, None, "to", "ToInvalid"),
    (FieldMissing, "from", "from", "FromEmpty"),
    (errors.SenderInvalid, "empty", "from", "FromEmpty"),
    (errors.SenderInvalid, "characters", "from", "FromContainsDisallowedCharacters"),
    (FieldUnreadable, "from", "from", "FromContainsDisallowedCharacters"),
    (errors.SenderInvalid, "numeric_too_long", "from", "FromExceedsMaxNumericLength"),
    (errors.SenderInvalid, "text_too_long", "from", "FromExceedsMaxTextLength"),
    (errors.SenderInvalid, "too_short", "from", "FromUnderMinTextLength"),
    (FieldUnreadable, "countryIsoCode", "countryIsoCode", "CountryIsoCodeInvalid"),
    (errors.CountryInvalid, None, "countryIsoCode", "CountryIsoCodeInvalid"),
    (errors.ExpiryInvalid, "past", "validUntil", "ValidUntilMinExceeded"),
    (errors.ExpiryInvalid, "too_far", "validUntil", "ValidUntilMaxExceeded"),
    (FieldUnreadable, "validUntil", "validUntil", "InvalidJson"),
    (FieldUnreadable, "body", "body", "BodyInvalid"),
    (errors.TemplateInvalid, None, "body", "BodyInvalid"),
    (errors.RateLimited, None, "to", "Throttled"),
    (FieldMissing, "code", "verifyCode", "CodeEmpty"),
    (errors.ValidationFailed, "code", "verifyCode", "CodeInvalid"),
    (FieldUnreadable, "code", "verifyCode", "CodeInvalid"),
    (errors.OtpgateError, None, "", "InvalidRequest"),
)

# numberStatus from the line type; a number in no assigned range is "Dead"
NUMBER_STATUSES: dict[LineType, str] = {
    LineType.MOBILE: "On",
    LineType.LANDLINE_OR_MOBILE: "On",
}
NOT_ON_A_MOBILE_NETWORK = "NotProvisioned"
DEAD = "Dead"

# a validation's outcome as the vendor's status word
CHECK_STATUSES: dict[CheckOutcome, str] = {
    CheckOutcome.APPROVED: "CodeVerified",
    CheckOutcome.WRONG_CODE: "CodeNotVerified",
    CheckOutcome.LOCKED: "CodeLocked",
    CheckOutcome.EXPIRED: "CodeExpired",
}
SENT = "CodeNotVerified"
NOT_SENT = "CodeNotSent"

# refusals before any field is read, and the wrong credentials
_PLAIN_REFUSALS = {401: UNAUTHORIZED_TEXT, 404: "Not Found", 405: "Method Not Allowed"}


def failure_for(error: Exception) -> JSONResponse:
    key = getattr(error, "reason", None) or getattr(error, "field", None)
    for error_class, row_key, property_name, code in FAILURES:
        if isinstance(error, error_class) and row_key in (None, key):
            details = (
                f"{property_name} cannot be null or empty"
                if isinstance(error, FieldMissing)
                else str(error)
            )
            failure = {"property": property_name, "failureCode": code, "details": details}
            headers = None
            if isinstance(error, errors.RateLimited):
                headers = {"Retry-After": str(error.retry_after)}
            return JSONResponse([failure], status_code=400, headers=headers)
    raise AssertionError("the last row matches every refusal")  # pragma: no cover


def refusal(status: int, detail: str) -> Response:
    if status in _PLAIN_REFUSALS:
        return PlainTextResponse(_PLAIN_REFUSALS[status], status_code=status)
    return JSONResponse([{"property": "", "failureCode": "InvalidJson", "details": detail}], 400)


_FAILURES = (errors.OtpgateError, BodyUnreadable, FieldMissing, FieldUnreadable)


@router.post(SEND_PATHS[0])
@router.post(SEND_PATHS[1])
async def send_code(request: Request, runtime: RuntimeDep) -> Response:
    try:
        app = await run_in_threadpool(_authenticate, runtime, request)
    except errors.Unauthorized:
        return refusal(401, "")
    try:
        fields = await read_fields(request)
        return await run_in_threadpool(_send, runtime, app, fields)
    except _FAILURES as exc:
        return failure_for(exc)


@router.api_route(VALIDATE_PATH, methods=["PUT", "POST", "GET"])
async def validate_code(request_id: str, request: Request, runtime: RuntimeDep) -> Response:
    try:
        app = await run_in_threadpool(_authenticate, runtime, request)
    except errors.Unauthorized:
        return refusal(401, "")
    try:
        fields = await read_fields(request)
        code = required_text(fields, "code", max_length=_MAX_CODE)
        return await run_in_threadpool(_validate, runtime, app, request_id, code)
    except _FAILURES as exc:
        return failure_for(exc)


@router.api_route(_ANY_PATH, methods=ALL_METHODS)
async def unknown_route(request: Request) -> Response:
    return refusal(405 if _KNOWN_PATHS.match(request.url.path) else 404, "")


def _authenticate(runtime: Runtime, request: Request) -> App:
    """HTTP Basic `key_id:secret`, or the `username` and `password` headers."""
    found = basic_credentials(request) or header_credentials(request, "username", "password")
    key_id, secret = found or ("", "")
    return runtime.apps.authenticate(key_id, secret)


def _send(runtime: Runtime, app: App, fields: Fields) -> Response:
    request_id = str(uuid.uuid4())
    start = _start_request(fields, request_id)
    try:
        verification = runtime.verifications.start(app, start).verification
    except errors.PhoneNumberUnassigned as dead:
        return _not_sent(runtime, request_id, dead.number, DEAD)
    except (errors.CountryBlocked, errors.LineTypeBlocked, errors.SenderInvalid) as refused:
        if isinstance(refused, errors.SenderInvalid) and refused.reason != "not_approved":
            raise
        # the service refused by policy after reading the number; describe it for the answer
        number = lookup_number(start.to, start.country)
        return _not_sent(runtime, request_id, number.e164, _number_status(number.line_type))
    answer = _verify_code(
        request_id, verification.to, SENT, _number_status(LineType(verification.line_type))
    )
    return JSONResponse({**answer, "created": timestamp(verification.created_at)}, 202)


def _not_sent(runtime: Runtime, request_id: str, number: str, number_status: str) -> Response:
    answer = _verify_code(request_id, number, NOT_SENT, number_status)
    return JSONResponse({**answer, "created": timestamp(runtime.clock.now())}, 202)


def _number_status(line_type: LineType) -> str:
    return NUMBER_STATUSES.get(line_type, NOT_ON_A_MOBILE_NETWORK)


def _start_request(fields: Fields, request_id: str) -> StartRequest:
    """The service's request from the vendor's fields."""
    to = required_text(fields, "to", max_length=_MAX_NUMBER)
    sender = required_text(fields, "from", max_length=_MAX_TEXT)
    country = _country(text_field(fields, "countryIsoCode", max_length=3))
    body = text_field(fields, "body", max_length=_MAX_TEXT)
    if country is None and not to.strip().startswith("+"):
        to = "+" + to.strip()  # international digits, as the vendor writes them
    return StartRequest(
        to=to,
        country=country,
        sender=sender,
        template=None if body is None else _template(body),
        valid_until=_valid_until(text_field(fields, "validUntil", max_length=64)),
        valid_until_within_seconds=VALID_UNTIL_WITHIN_SECONDS,
        alias=VendorAlias(VENDOR, request_id),
    )


def _country(value: str | None) -> str | None:
    """ISO 3166-1 alpha-3, as the vendor documents it."""
    if value is None:
        return None
    if len(value.strip()) != 3:
        raise errors.CountryInvalid(f"{value!r} is not an ISO 3166-1 alpha-3 code")
    return normalize_country(value, field="countryIsoCode")


def _template(body: str) -> str:
    return _PLACEHOLDER.sub(lambda match: _PLACEHOLDERS[match.group(0)], body)


def _valid_until(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value.strip())
    except ValueError:
        raise FieldUnreadable("validUntil", "is not an ISO 8601 date and time") from None


def _validate(runtime: Runtime, app: App, request_id: str, code: str) -> Response:
    """200 with the outcome; 204 for an id that is unknown to this app or no longer pending."""
    verification_id = _verification_of(runtime, app, request_id)
    if verification_id is None:
        return Response(status_code=204)
    try:
        result = runtime.verifications.check(app, verification_id, code)
    except (errors.NotPending, errors.NotFound):
        return Response(status_code=204)
    verification = result.verification
    answer = _verify_code(
        _canonical(request_id) or request_id,
        verification.to,
        CHECK_STATUSES[result.outcome],
        _number_status(LineType(verification.line_type)),
    )
    return JSONResponse(
        {
            **answer,
            "created": timestamp(verification.created_at),
            "verified": timestamp(verification.approved_at),
        }
    )


def _verification_of(runtime: Runtime, app: App, request_id: str) -> str | None:
    canonical = _canonical(request_id)
    found = (
        None
        if canonical is None
        else runtime.verifications.find_alias(VendorAlias(VENDOR, canonical))
    )
    if found is None or found[0] != app.id:
        return None
    return found[1]


def _canonical(request_id: str) -> str | None:
    """GUIDs match in any case and with or without braces, as .NET parses them."""
    try:
        return str(uuid.UUID(request_id))
    except ValueError:
        return None


def _verify_code(request_id: str, number: str, status: str, number_status: str) -> dict[str, Any]:
    return {
        "requestId": request_id,
        "phoneNumber": number.lstrip("+"),
        "status": status,
        "numberStatus": number_status,
    }


API = VendorApi(router=router, templates=(*SEND_PATHS, VALIDATE_PATH, _ANY_PATH), refusal=refusal)
