"""IDResponse PhoneMatch 5.0 SMS: the gateway request that sends a code and answers PENDING
with a continuation token, and `/process/continue` that checks the code for that token."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import Enum
from functools import partial
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.responses import Response

from otpgate.api.auth import RuntimeDep
from otpgate.api.middleware import PathRefusal
from otpgate.compat.bodies import FieldMissing, Fields, UnreadableBody, echoed_text, text_field
from otpgate.compat.idresponse_request import GatewayRequest, narrowing_of, template_values_of
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
    FraudBlocked,
    LineTypeBlocked,
    LookupUnavailable,
    NotFound,
    NotPending,
    OtpgateError,
    RateLimited,
    SenderInvalid,
    Unauthorized,
)
from otpgate.domain.lookups import LookupAnswer
from otpgate.domain.templates import CODE_PLACEHOLDER
from otpgate.domain.verification import CheckOutcome, Status
from otpgate.runtime import Runtime
from otpgate.service.ports import App
from otpgate.service.verifications import StartRequest, VendorAlias

GATEWAY_PATH = "/process/comprehensive/gateway"
CONTINUE_PATH = "/process/continue"
SERVICE = "PhoneMatch5.0.SMS"
VENDOR = "idresponse"
HOME_COUNTRY = "US"  # numbers without a country code are North American, as the vendor's are
PIN_PLACEHOLDER = "{pin}"
DEFAULT_MESSAGE = "Your one-time password is {pin}"
INSTRUCTIONS = (
    "POST this template to the url with codematch.key set to the code the person entered."
)


class Result(Enum):
    """(action, detail, HTTP status) of each answer the vendor's clients know."""

    PASSED = ("PASS", "ALL CHECKS PASSED", 200)
    PENDING = ("PENDING", "TRANSACTION REQUIRES FURTHER ATTENTION", 200)
    SUPPRESSED = ("FAIL", "SUPPRESSED SENDING CODE", 200)
    DATA_CHECK_FAILED = ("FAIL", "DATA CHECK FAILED", 200)
    NOT_SENT = ("FAIL", "FAILED TO SEND TO NUMBER", 200)
    CHECK_FAILED = ("FAIL", "FAILED OUT-OF-BAND CHECK", 200)
    NOT_AUTHENTICATED = ("FAIL", "AUTHENTICATION FAILED", 401)


# The first row an error is an instance of decides; most specific first.
GATEWAY_REFUSALS: tuple[tuple[type[OtpgateError], Result], ...] = (
    (Unauthorized, Result.NOT_AUTHENTICATED),
    (LineTypeBlocked, Result.SUPPRESSED),
    (RateLimited, Result.NOT_SENT),
    (FraudBlocked, Result.NOT_SENT),
    (SenderInvalid, Result.NOT_SENT),  # the app's own sender is not among its approved ones
    (LookupUnavailable, Result.NOT_SENT),  # the app refuses starts the network cannot vouch for
    # invalid or unassigned number, country excluded, bad options or message, unreadable body
    (OtpgateError, Result.DATA_CHECK_FAILED),
)

# What a continuation's check found: the check's outcome, or why there was nothing to check.
CONTINUE_ANSWERS: dict[tuple[str, str], tuple[Result, str | None]] = {
    ("checked", CheckOutcome.APPROVED): (Result.PASSED, None),
    ("checked", CheckOutcome.WRONG_CODE): (Result.CHECK_FAILED, "CODE DID NOT MATCH"),
    ("checked", CheckOutcome.LOCKED): (Result.CHECK_FAILED, "TOO MANY FAILED ATTEMPTS"),
    ("checked", CheckOutcome.EXPIRED): (Result.CHECK_FAILED, "CODE EXPIRED"),
    ("final", Status.APPROVED): (Result.CHECK_FAILED, "CODE ALREADY USED"),
    ("final", Status.LOCKED): (Result.CHECK_FAILED, "TOO MANY FAILED ATTEMPTS"),
    ("final", Status.EXPIRED): (Result.CHECK_FAILED, "CODE EXPIRED"),
    ("final", Status.CANCELED): (Result.CHECK_FAILED, "TRANSACTION CANCELED"),
    ("final", Status.UNDELIVERABLE): (Result.CHECK_FAILED, "CODE COULD NOT BE DELIVERED"),
    ("refused", "unknown_token"): (Result.CHECK_FAILED, "UNKNOWN TOKEN"),
    ("refused", "no_code"): (Result.CHECK_FAILED, "NO CODE SUBMITTED"),
    ("refused", "bad_code"): (Result.CHECK_FAILED, "CODE DID NOT MATCH"),
    ("refused", "unreadable"): (Result.CHECK_FAILED, "REQUEST COULD NOT BE READ"),
}

# otpgate's names for the inputs, as the vendor's request names them
VENDOR_FIELDS = {"to": "target.phone", "template": "options.outofband.message"}

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Meta:
    now: datetime
    confirmation: str | None = None
    reference: str | None = None
    company: str | None = None
    user: str | None = None


@router.api_route(GATEWAY_PATH, methods=BODY_METHODS)
async def gateway(request: Request, runtime: RuntimeDep) -> Response:
    return await answer_post(request, runtime, _gateway, _gateway_unreadable)


@router.api_route(CONTINUE_PATH, methods=BODY_METHODS)
async def continue_transaction(request: Request, runtime: RuntimeDep) -> Response:
    return await answer_post(request, runtime, _continue, _continue_unreadable)


def _gateway_unreadable(runtime: Runtime, error: UnreadableBody) -> JSONResponse:
    return _refused(Meta(runtime.clock.now()), error)


def _continue_unreadable(runtime: Runtime, error: UnreadableBody) -> JSONResponse:
    return _answer(Meta(runtime.clock.now()), ("refused", "unreadable"), error.detail)


def refusals(runtime: Runtime) -> list[PathRefusal]:
    """What the request guard answers on these paths (a body too large): an unreadable body."""
    return [
        (prefix_pattern(GATEWAY_PATH), unreadable_refusal(runtime, _gateway_unreadable)),
        (prefix_pattern(CONTINUE_PATH), unreadable_refusal(runtime, _continue_unreadable)),
    ]


async def _gateway(runtime: Runtime, fields: Fields) -> Response:
    return await answer_start(
        runtime, lambda: _read_gateway(runtime, fields), partial(_start, runtime), _refused_start
    )


@dataclass(frozen=True)
class GatewayRead:
    """A gateway request authenticated and read: what its answer echoes, the start it asks."""

    meta: Meta
    app: App
    request: StartRequest
    alias: VendorAlias


def _read_gateway(runtime: Runtime, fields: Fields) -> GatewayRead | JSONResponse:
    user = echoed_text(fields, "user")
    meta = Meta(runtime.clock.now(), reference=echoed_text(fields, "reference"), user=user)
    try:
        app = runtime.apps.authenticate(user or "", echoed_text(fields, "pass") or "")
    except Unauthorized as error:
        return _refused(meta, error)
    meta = replace(meta, company=app.name)
    try:
        request = _gateway_request(fields)
        message = request.message if request.message and request.message.strip() else None
        alias = runtime.verifications.new_alias(VENDOR)
        start = StartRequest(
            to=request.phone,
            channel=Channel.SMS,  # the vendor's API sends SMS only
            country=HOME_COUNTRY,
            template=(message or DEFAULT_MESSAGE).replace(PIN_PLACEHOLDER, CODE_PLACEHOLDER),
            template_values=template_values_of(request),
            reference=meta.reference,
            alias=alias,
            # do_not_send_to_types applies to the line type the network resolved, when asked
            narrowing=narrowing_of(request),
        )
    except OtpgateError as error:
        return _refused(meta, error)
    return GatewayRead(meta, app, start, alias)


def _start(runtime: Runtime, read: GatewayRead, lookup: LookupAnswer | None) -> JSONResponse:
    try:
        started = runtime.verifications.start(read.app, read.request, lookup=lookup)
    except OtpgateError as error:
        return _refused(read.meta, error)
    meta = replace(read.meta, confirmation=started.verification.id)
    body = _envelope(meta, Result.PENDING, [])
    body["continuations"] = {
        "outofband": {
            "url": CONTINUE_PATH,
            "template": {"token": read.alias.value, "codematch": {"key": None}},
            "instructions": INSTRUCTIONS,
        }
    }
    return JSONResponse(body)


def _refused_start(read: GatewayRead, error: OtpgateError) -> JSONResponse:
    return _refused(read.meta, error)


def _gateway_request(fields: Fields) -> GatewayRequest:
    try:
        request = GatewayRequest.model_validate(fields)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"])
        raise UnreadableBody(f"{field}: {error['msg']}", field=field) from None
    if request.service.lower() != SERVICE.lower():
        raise UnreadableBody(f"service must be {SERVICE}", field="service")
    return request


async def _continue(runtime: Runtime, fields: Fields) -> Response:
    return await runtime.run(lambda: _check_continuation(runtime, fields))


def _check_continuation(runtime: Runtime, fields: Fields) -> JSONResponse:
    meta = Meta(runtime.clock.now())
    token = fields.get("token")
    codematch = fields.get("codematch")
    found = (
        runtime.verifications.find_alias(VendorAlias(VENDOR, token))
        if isinstance(token, str) and 0 < len(token) <= 64
        else None
    )
    if found is None:
        return _answer(meta, ("refused", "unknown_token"))
    app_id, verification_id = found
    try:
        app = runtime.apps.get_app(app_id)
        verification = runtime.verifications.get(app, verification_id)
        meta = replace(
            meta, confirmation=verification.id, reference=verification.reference, company=app.name
        )
        code = text_field(codematch, "key") if isinstance(codematch, dict) else None
        if code is None:
            raise FieldMissing("codematch.key")
        checked = runtime.verifications.check(app, verification_id, code)
    except NotFound:
        return _answer(meta, ("refused", "unknown_token"))
    except NotPending as error:
        return _answer(meta, ("final", error.status))
    except FieldMissing:
        return _answer(meta, ("refused", "no_code"))
    except OtpgateError:  # text that no code can be (too long, not printable ASCII)
        return _answer(meta, ("refused", "bad_code"))
    return _answer(meta, ("checked", checked.outcome))


def _answer(meta: Meta, key: tuple[str, str], detail: str | None = None) -> JSONResponse:
    result, issue = CONTINUE_ANSWERS[key]
    issues = [issue] if issue is not None else []
    if detail is not None:
        issues.append(detail)
    return JSONResponse(_envelope(meta, result, issues), status_code=result.value[2])


def _refused(meta: Meta, error: OtpgateError) -> JSONResponse:
    result = next(result for kind, result in GATEWAY_REFUSALS if isinstance(error, kind))
    field = VENDOR_FIELDS.get(error.field or "", error.field)
    if field and field.startswith("template_values."):
        field = "target." + field.removeprefix("template_values.")
    issue = f"{field}: {error.detail}" if field else error.detail
    return JSONResponse(_envelope(meta, result, [issue]), status_code=result.value[2])


def _envelope(meta: Meta, result: Result, issues: list[str]) -> dict[str, Any]:
    action, detail, _status = result.value
    return {
        "meta": {
            "confirmation": meta.confirmation,
            "reference": meta.reference,
            "service": SERVICE,
            "timestamp": meta.now.strftime("%Y-%m-%d %H:%M:%S"),
            "company": meta.company,
            "user": meta.user,
        },
        "result": {"action": action, "detail": detail, "issues": issues},
        "output": {"outofband": {}},
    }


API = VendorApi(router=router, templates=(GATEWAY_PATH, CONTINUE_PATH), refusals=refusals)
