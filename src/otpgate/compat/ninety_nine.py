"""99 digital Verify SMS: one form route that is a Send, or a Check when the body has `code`.

Every answer is HTTP 200; the outcome is in `status` and `reason` (Send) or `status` (Check).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from functools import partial
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.responses import Response

from otpgate.api.auth import RuntimeDep
from otpgate.compat.bodies import (
    FieldMissing,
    Fields,
    UnreadableBody,
    echoed_text,
    required_text,
    text_field,
)
from otpgate.compat.routing import (
    BODY_METHODS,
    VendorApi,
    answer_post,
    answer_start,
    prefix_pattern,
    unreadable_refusal,
)
from otpgate.domain.channels import Channel
from otpgate.domain.errors import (
    NotFound,
    NotPending,
    OtpgateError,
    PhoneNumberInvalid,
    SenderInvalid,
    TemplateWithoutCode,
    Unauthorized,
    ValidationFailed,
)
from otpgate.domain.lookups import LookupAnswer
from otpgate.domain.templates import CODE_PLACEHOLDER
from otpgate.domain.verification import CheckOutcome, Status
from otpgate.runtime import Runtime
from otpgate.service.ports import App
from otpgate.service.verifications import StartRequest

PATH = "/sms/verifySMS"
CODE_MARKER = "##code##"
DEFAULT_MESSAGE = " Your verification code is: ##code## "
HOME_COUNTRY = "IL"  # the vendor's numbers are Israeli national ones unless international


class SendReason(IntEnum):
    OK = 1
    FROM_LENGTH = 2
    SENDER_NOT_APPROVED = 3
    OTHER_FAILURE = 5
    WRONG_API_KEY = 6
    TO_EMPTY = 7
    FROM_EMPTY = 9
    MESSAGE_WITHOUT_CODE = 10


class CheckStatus(IntEnum):
    VERIFIED = 1
    WRONG_CODE = 2
    EXPIRED = 3
    NOT_PENDING = 4
    LOCKED = 5
    WRONG_API_KEY = 6
    TO_EMPTY = 7
    CODE_EMPTY = 8


# (error class, field / sender reason / verification status or None for any, answer);
# the first row an error matches decides, so the most specific rows come first.
Row = tuple[type[OtpgateError], str | None, int]

SEND_REFUSALS: tuple[Row, ...] = (
    (Unauthorized, None, SendReason.WRONG_API_KEY),
    (FieldMissing, "to", SendReason.TO_EMPTY),
    (FieldMissing, "from", SendReason.FROM_EMPTY),
    (SenderInvalid, "empty", SendReason.FROM_EMPTY),
    (SenderInvalid, "numeric_too_long", SendReason.FROM_LENGTH),
    (SenderInvalid, "text_too_long", SendReason.FROM_LENGTH),
    (SenderInvalid, "too_short", SendReason.FROM_LENGTH),
    (SenderInvalid, "not_approved", SendReason.SENDER_NOT_APPROVED),
    (TemplateWithoutCode, None, SendReason.MESSAGE_WITHOUT_CODE),
    # invalid or unassigned number, blocked country or line type or prefix (SMS pumping),
    # rate limits, bad text
    (OtpgateError, None, SendReason.OTHER_FAILURE),
)

CHECK_OUTCOMES = {
    CheckOutcome.APPROVED: CheckStatus.VERIFIED,
    CheckOutcome.WRONG_CODE: CheckStatus.WRONG_CODE,
    CheckOutcome.EXPIRED: CheckStatus.EXPIRED,
    CheckOutcome.LOCKED: CheckStatus.LOCKED,
}

CHECK_REFUSALS: tuple[Row, ...] = (
    (Unauthorized, None, CheckStatus.WRONG_API_KEY),
    (FieldMissing, "to", CheckStatus.TO_EMPTY),
    (FieldMissing, "code", CheckStatus.CODE_EMPTY),
    # a verification that became final between finding it and checking it
    (NotPending, Status.EXPIRED, CheckStatus.EXPIRED),
    (NotPending, Status.LOCKED, CheckStatus.LOCKED),
    (NotPending, None, CheckStatus.NOT_PENDING),
    (NotFound, None, CheckStatus.NOT_PENDING),
    (PhoneNumberInvalid, None, CheckStatus.NOT_PENDING),
    (ValidationFailed, "code", CheckStatus.WRONG_CODE),  # text that no code can be
    (OtpgateError, None, CheckStatus.NOT_PENDING),
)

router = APIRouter(include_in_schema=False)


@router.api_route(PATH, methods=BODY_METHODS)
async def verify_sms(request: Request, runtime: RuntimeDep) -> Response:
    return await answer_post(request, runtime, _verify_sms, _unreadable)


async def _verify_sms(runtime: Runtime, fields: Fields) -> Response:
    if "code" in fields:
        return JSONResponse(await runtime.run(lambda: _check(runtime, fields)))
    return await answer_start(
        runtime,
        lambda: _read_send(runtime, fields),
        partial(_send, runtime),
        partial(_refused_send, runtime),
    )


def _unreadable(runtime: Runtime, error: UnreadableBody) -> JSONResponse:
    return JSONResponse(_send_failed(runtime, {}, error))


@dataclass(frozen=True)
class SendRead:
    """A Send authenticated and read: its fields (the answer echoes them) and the start."""

    fields: Fields
    app: App
    request: StartRequest


def _read_send(runtime: Runtime, fields: Fields) -> SendRead | JSONResponse:
    try:
        app = runtime.apps.authenticate_api_key(_echo(fields, "apiKey"))
        to = required_text(fields, "to")
        sender = required_text(fields, "from")
        message = text_field(fields, "message") or DEFAULT_MESSAGE
    except OtpgateError as error:
        return JSONResponse(_send_failed(runtime, fields, error))
    start = StartRequest(
        to=to,
        channel=Channel.SMS,  # the vendor's API sends SMS only
        country=HOME_COUNTRY,
        sender=sender,
        template=message.replace(CODE_MARKER, CODE_PLACEHOLDER),
    )
    return SendRead(fields, app, start)


def _send(runtime: Runtime, read: SendRead, lookup: LookupAnswer | None) -> JSONResponse:
    try:
        result = runtime.verifications.start(read.app, read.request, lookup=lookup)
    except OtpgateError as error:
        return _refused_send(runtime, read, error)
    return JSONResponse(
        {
            "status": "OK",
            "unique": result.message_id,
            "timestamp": int(result.verification.last_sent_at.timestamp()),
            "from": read.request.sender,
            "reason": SendReason.OK,
        }
    )


def _refused_send(runtime: Runtime, read: SendRead, error: OtpgateError) -> JSONResponse:
    return JSONResponse(_send_failed(runtime, read.fields, error))


def _send_failed(runtime: Runtime, fields: Fields, error: OtpgateError) -> dict[str, Any]:
    return {
        "status": "FAIL",
        "unique": "",
        "timestamp": int(runtime.clock.now().timestamp()),
        "from": _echo(fields, "from"),
        "reason": _answer_for(SEND_REFUSALS, error),
    }


def _check(runtime: Runtime, fields: Fields) -> dict[str, Any]:
    try:
        app = runtime.apps.authenticate_api_key(_echo(fields, "apiKey"))
        result = runtime.verifications.check_by_number(
            app, required_text(fields, "to"), HOME_COUNTRY, required_text(fields, "code")
        )
        status = CHECK_OUTCOMES[result.outcome]
    except OtpgateError as error:
        status = CheckStatus(_answer_for(CHECK_REFUSALS, error))
    return {"status": status, "phone": _echo(fields, "to")}


def _echo(fields: Fields, name: str) -> str:
    """A field as the client sent it, for the answer; "" when it is not text."""
    return echoed_text(fields, name) or ""


def _answer_for(table: tuple[Row, ...], error: OtpgateError) -> int:
    qualifiers = {error.field, getattr(error, "reason", None), getattr(error, "status", None)}
    for error_class, qualifier, answer in table:
        if isinstance(error, error_class) and (qualifier is None or qualifier in qualifiers):
            return answer
    raise AssertionError("every table ends with a row for any OtpgateError")


API = VendorApi(
    router=router,
    templates=(PATH,),
    # a body too large is a failed Send
    refusals=lambda runtime: [(prefix_pattern(PATH), unreadable_refusal(runtime, _unreadable))],
)
